#!/usr/bin/env bash
# Server-side rendering throughput (issue 17 §5): the gallery page with 100 images for a
# signed-in person, rendered by the real server and by a hand-written axum handler over
# the same data, each on one core; requests/s, p50, p99 and their ratio.
# Usage: bench-ssr.sh [SECONDS] [CONNECTIONS]       (default 10 s, 16 connections)
#        bench-ssr.sh --instructions [REQUESTS]     (default 100: each server under
#            valgrind's callgrind, instructions per request; repeatable to within a
#            fraction of a per cent, for comparing two builds)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin each side to a core"
[ "$(nproc --all)" -ge 2 ] || die "two cores are needed: one for the server, one for the load"
if [ "${1:-}" = "--instructions" ]; then
    command -v valgrind >/dev/null || die "valgrind (Debian's valgrind package) is needed"
    set -- instructions "${2:-100}"
else
    set -- "${1:-10}" "${2:-16}"
fi
cargo build --release --locked -p server --bin avatar-studio --example bench_ssr
# The load generator on core 1; the servers it starts on core 0.
AVATAR_STUDIO_BIN="$CARGO_TARGET_DIR/release/avatar-studio" \
    taskset -c 1 "$CARGO_TARGET_DIR/release/examples/bench_ssr" "$@"
