#!/usr/bin/env bash
# Times variant rendering (1024×1024 PNG and JPEG → 256×256 WebP and JPEG) against
# vipsthumbnail on the same files in the same run; prints a Markdown table.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! command -v vipsthumbnail >/dev/null; then
    log "installing libvips-tools from Debian (for the comparison)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvips-tools >/dev/null
fi
cd "$ROOT"
cargo run --release --quiet -p backend --example bench_variants
