#!/usr/bin/env bash
# The realtime channel with many idle WebSockets: the server's memory per connection and
# the delivery latency of an event fanned out to all of them, through the real release
# binary on SQLite. Usage: bench-ws.sh [N ...]   (default: 1000 10000)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
# Ten thousand sockets on each side (the server inherits the limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked -p server --bin avatar-studio --example bench_ws
AVATAR_STUDIO_BIN="$CARGO_TARGET_DIR/release/avatar-studio" \
    "$CARGO_TARGET_DIR/release/examples/bench_ws" "$@"
