# Shared by the scripts in this folder: paths and the build environment.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# The cargo target directory lives outside the clone so that a fresh clone (CI) reuses
# the previous build on the same machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/avatar-studio/target}"
# wasm-opt (release builds) comes from the npm package binaryen, installed under tools/.
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# The Python tools of the test suite (scripts/requirements-test.txt) live in a virtual
# environment beside the target directory, for the same reason.
export TEST_VENV="${TEST_VENV:-$HOME/.cache/avatar-studio/venv}"
export PATH="$TEST_VENV/bin:$PATH"
# cargo-leptos writes the site (wasm, js, css, assets) here; the server reads it.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$ROOT/target/site}"

# The versions the setup installs.
CARGO_LEPTOS_VERSION="0.3.10"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Whether something accepts connections at an address given as LEPTOS_SITE_ADDR is
# (`127.0.0.1:3000`, `0.0.0.0:3000`, `[::1]:3000`): bash's /dev/tcp, no tool needed.
address_in_use() {
    local port="${1##*:}" host="${1%:*}"
    host="${host#[}"; host="${host%]}"
    case "$host" in 0.0.0.0) host=127.0.0.1 ;; ::) host=::1 ;; esac
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# The listen address the app will use: the environment, else .env, else the default.
site_addr() {
    local addr="${LEPTOS_SITE_ADDR:-}"
    if [ -z "$addr" ] && [ -f "$ROOT/.env" ]; then
        addr="$(sed -n 's/^[[:space:]]*\(export[[:space:]]\+\)\?LEPTOS_SITE_ADDR[[:space:]]*=[[:space:]]*["'"'"']\?\([^"'"'"' ]*\).*/\2/p' "$ROOT/.env" | tail -n 1)"
    fi
    printf '%s' "${addr:-127.0.0.1:3000}"
}

# The wasm-bindgen version that Cargo.lock pins: the CLI must match it exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Runs a command as root (directly, or through sudo when available).
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $*"
    fi
}
