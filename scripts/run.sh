#!/usr/bin/env bash
# Sets up the toolchain, builds the release app and runs it on http://127.0.0.1:3000
# (or LEPTOS_SITE_ADDR). Configuration: environment variables or a .env file (README).
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$ROOT/scripts/setup.sh"
cd "$ROOT"
log "building the release app (the first build takes several minutes)"
cargo leptos build --release --precompress
log "starting Avatar Studio: open http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
LEPTOS_ENV=PROD exec "$CARGO_TARGET_DIR/release/avatar-studio" "$@"
