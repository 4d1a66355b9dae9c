#!/usr/bin/env bash
# Time to interactive of a first visit with Lighthouse's mobile throttling (issue 17 §4),
# measured in Chromium by end2end/perf/tti.mjs against the real server: `/`, `/login`,
# `/studio` and `/gallery` (100 images). Prints a Markdown table (median of RUNS visits).
#
#   scripts/bench-tti.sh [RUNS] [--behind-nginx] [--update-readme]
#
# --behind-nginx measures the app as the README's "Deploying" deploys it: Debian's nginx
# with the README's own site in front (TLS with a self-signed certificate, HTTP/2;
# scripts/nginx-site.sh), instead of the app's own HTTP/1.1 on its port.
#
# Needs the release front end (`cargo leptos build --release --precompress --split`); the
# server is AVATAR_STUDIO_BIN (default: the release binary, built here when missing).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

runs=3
write_readme=false
behind_nginx=false
for arg in "$@"; do
    case "$arg" in
        --update-readme) write_readme=true ;;
        --behind-nginx) behind_nginx=true ;;
        [0-9]*) runs="$arg" ;;
        *) die "unknown option $arg" ;;
    esac
done

[ -f "$LEPTOS_SITE_ROOT/pkg/avatar-studio.wasm.br" ] || die "no release front end: run 'cargo leptos build --release --precompress --split' first"
bin="${AVATAR_STUDIO_BIN:-$CARGO_TARGET_DIR/release/avatar-studio}"
if [ -z "${AVATAR_STUDIO_BIN:-}" ]; then
    cargo build --release --locked -p server --bin avatar-studio
fi
[ -x "$bin" ] || die "no server binary at $bin"

settings=(RUST_LOG=warn BUILTIN_DELAY_MS=0 QUOTA_IMAGES_PER_DAY=0 QUOTA_ACTIVE_JOBS=0)
if $behind_nginx; then
    https_port="$(free_port)"
    start_scratch_server "$bin" "${settings[@]}" PUBLIC_URL="https://127.0.0.1:$https_port" TRUSTED_PROXIES=127.0.0.1
    start_scratch_nginx "$https_port"
    base="$proxy_base"
else
    start_scratch_server "$bin" "${settings[@]}"
fi
email="tti@example.com"
password="measuring the time to interactive"
printf '%s\n' "$password" | env -i PATH="$PATH" DATA_DIR="$work/data" \
    "$bin" user create "$email" --admin --password-stdin >/dev/null 2>&1

node "$ROOT/end2end/perf/tti.mjs" "$base" "$email" "$password" "$runs" >"$work/tti.jsonl" || { tail -20 "$work/server.log" >&2; die "the measurement failed"; }

table="$(python3 - "$runs" "$work/tti.jsonl" <<'PY'
import json, sys
goals = {"/": 1500, "/login": 1500}
rows = [json.loads(line) for line in open(sys.argv[2])]
protocols = sorted({p for r in rows for p in r["protocols"] if p})
print(f"(served over {', '.join(protocols)})")
print()
print(f"| route | time to interactive (median of {sys.argv[1]}) | runs (s) | goal |")
print("|---|---|---|---|")
for r in rows:
    goal = goals.get(r["route"], 2500)
    mark = "met" if r["median"] <= goal else "not met"
    runs = ", ".join(f"{ms / 1000:.2f}" for ms in r["runs"])
    print(f"| `{r['route']}` | {r['median'] / 1000:.2f} s | {runs} | ≤ {goal / 1000:.1f} s ({mark}) |")
PY
)"
printf '%s\n' "$table"

if $write_readme; then
    if $behind_nginx; then update_readme tti-nginx "$table"; else update_readme tti "$table"; fi
fi
