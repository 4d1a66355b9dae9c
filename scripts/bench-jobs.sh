#!/usr/bin/env bash
# The job queue's throughput and enqueue-to-start latency, end to end through the real
# server against a zero-delay fake OpenAI, on SQLite and on PostgreSQL (at
# TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432). Usage: bench-jobs.sh [N]
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
cargo run --release --locked -p server --example bench_jobs -- "${1:-500}"
