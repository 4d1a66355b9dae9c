#!/usr/bin/env bash
# The server's peak memory while N uploads of the largest allowed image arrive at once,
# through the real release binary on SQLite. Usage: bench-uploads.sh [N ...]  (default 1 8 32)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
cargo build --release --locked -p server --bin avatar-studio --example bench_uploads
AVATAR_STUDIO_BIN="$CARGO_TARGET_DIR/release/avatar-studio" \
    "$CARGO_TARGET_DIR/release/examples/bench_uploads" "$@"
