#!/usr/bin/env bash
# Measures the release wasm and JS bundle (raw, gzip, brotli) built by
# `cargo leptos build --release --precompress`, and prints a Markdown table.
#   scripts/bundle-size.sh                 print the table
#   scripts/bundle-size.sh --update-readme also write it into README.md's performance section
set -euo pipefail
source "$(dirname "$0")/common.sh"

pkg="$LEPTOS_SITE_ROOT/pkg"
[ -f "$pkg/avatar-studio.wasm" ] || die "no release build in $pkg: run 'cargo leptos build --release --precompress' first"

size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo "-"; fi; }
kb() { if [ "$1" = "-" ]; then echo "-"; else awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; fi; }

table="| file | raw | gzip | brotli |
|---|---|---|---|"
for f in avatar-studio.wasm avatar-studio.js avatar-studio.css; do
    table+="
| \`$f\` | $(kb "$(size "$pkg/$f")") | $(kb "$(size "$pkg/$f.gz")") | $(kb "$(size "$pkg/$f.br")") |"
done
printf '%s\n' "$table"

if [ "${1:-}" = "--update-readme" ]; then
    python3 - "$ROOT/README.md" "$table" <<'PY'
import sys, re
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
new = re.sub(r"(<!-- bundle-size:start -->\n).*?(\n<!-- bundle-size:end -->)",
             lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
if new == text and table not in text:
    sys.exit("README.md has no <!-- bundle-size:start/end --> markers")
open(path, "w").write(new)
PY
    log "README.md updated"
fi
