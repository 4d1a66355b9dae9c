#!/usr/bin/env bash
# Sets up the toolchain, builds the release app and runs it on http://127.0.0.1:3000
# (or LEPTOS_SITE_ADDR). Configuration: environment variables or a .env file (README).
set -euo pipefail
source "$(dirname "$0")/common.sh"

addr="$(site_addr)"
# Said before minutes of building, not after (an operator subcommand listens on nothing).
if { [ $# -eq 0 ] || [ "$1" = serve ]; } && address_in_use "$addr"; then
    die "$addr is already in use (is Avatar Studio already running?): stop that program, or run on another address, e.g. LEPTOS_SITE_ADDR=127.0.0.1:3001 ./scripts/run.sh"
fi

"$ROOT/scripts/setup.sh"
cd "$ROOT"
log "building the release app (the first build takes several minutes)"
cargo leptos build --release --precompress --split
log "starting Avatar Studio: open http://$addr"
LEPTOS_ENV=PROD exec "$CARGO_TARGET_DIR/release/avatar-studio" "$@"
