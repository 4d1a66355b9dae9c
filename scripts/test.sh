#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, lints (server and wasm), the backend
# tests on SQLite and PostgreSQL, the server tests, the release front end, the wasm bundle size,
# Schemathesis against the API and the Playwright suite in Chromium. Prints how long each
# stage took.
#
# PostgreSQL must be reachable at TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432); the suite fails without it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
# A fresh clone rebuilds our crates anyway: incremental state would only cost time.
[ -n "${CI:-}" ] && export CARGO_INCREMENTAL=0

timings=()
suite_start=$SECONDS
output="$(mktemp)"
report() {
    local rc=$?
    [ -n "${port_guard:-}" ] && kill "$port_guard" 2>/dev/null
    printf '\n%-16s %8s\n' "stage" "seconds"
    for t in "${timings[@]}"; do printf '%-16s %8s\n' ${t}; done
    printf '%-16s %8s\n' "total" "$((SECONDS - suite_start))"
    # One closing line for the whole suite: cargo's and Playwright's counts added up.
    local counts
    counts="$(sed 's/\x1b\[[0-9;]*m//g' "$output" | awk '
        /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
        /^ +[0-9]+ passed \(/ { p += $1 }
        /^ +[0-9]+ failed$/ { f += $1 }
        END { printf "%d %d", p, f }')"
    rm -f "$output"
    [ $rc -eq 0 ] || printf '\033[1;31mFAILED\033[0m (exit %s)\n' "$rc"
    printf 'tests: %s passed, %s failed\n' ${counts}
}
trap report EXIT

stage() {
    local name="$1"; shift
    log "stage $name: $*"
    local start=$SECONDS
    local rc=0
    "$@" 2>&1 | tee -a "$output" || rc=$?
    timings+=("$name $((SECONDS - start))")
    if [ "$rc" -ne 0 ]; then
        log "stage $name failed"
        exit "$rc"
    fi
}

stage setup          "$ROOT/scripts/setup.sh" --test
stage fmt            cargo fmt --all -- --check
stage clippy-server  cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings
stage clippy-wasm    cargo clippy --locked -p frontend -p app --target wasm32-unknown-unknown -- -D warnings
# The app a person started with ./scripts/run.sh holds 127.0.0.1:3000 while they run the
# tests: no test may need it. The suite holds it itself (unless the app already does), so
# that a test that reaches for it fails here, not on a user's machine.
if ! address_in_use 127.0.0.1:3000; then
    python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 3000)); s.listen()
while True: time.sleep(3600)' &
    port_guard=$!
    for _ in $(seq 50); do address_in_use 127.0.0.1:3000 && break; sleep 0.1; done
    address_in_use 127.0.0.1:3000 || die "cannot hold 127.0.0.1:3000 busy for the suite"
fi
# Every test of every package (unit tests, each crate's one integration-test binary), so
# that a new test can never be left out; `frontend` only enables `app/hydrate`, which must
# not be built together with `app/ssr`.
stage test           cargo test --locked --workspace --exclude frontend --tests
# The release front end (wasm, JS, CSS) as `run.sh` builds it: what the bundle budget
# measures and what the browser runs. The server the fuzzer and the browser tests talk to
# is the one the test stage has just built (debug: the same code with overflow checks and
# debug assertions on); a second, optimised build of the server and its several hundred
# dependencies would add 10 minutes on a fresh two-core machine and test nothing more.
stage build          cargo leptos build --release --precompress --split --frontend-only
server_bin="$CARGO_TARGET_DIR/debug/avatar-studio"
# What a first visit to each page downloads, measured in Chromium; fails over budget.
stage bundle-size    env AVATAR_STUDIO_BIN="$server_bin" "$ROOT/scripts/bundle-size.sh"
# Every operation of the OpenAPI document, fuzzed against the server.
stage fuzz-api       env AVATAR_STUDIO_BIN="$server_bin" "$ROOT/scripts/fuzz-api.sh"
# The fake OpenAI and Gemini as a program, for the browser tests that compare models.
stage fakes          cargo build --locked -p fakes --bin fake-providers
stage end2end        env E2E_SERVER_BIN="$server_bin" bash -c 'cd end2end && npx playwright test'
