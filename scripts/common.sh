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

# Starts the server binary $1 on a free loopback port with its data in a new temporary
# folder, the given VAR=value settings added to a clean environment, and waits until it
# listens. Sets `work` (the folder: the data in data/, the log in server.log), `port`,
# `base` and `server_pid`; stops the server and removes the folder when the script exits.
start_scratch_server() {
    local bin="$1"; shift
    work="$(mktemp -d)"
    server_pid=""
    trap 'stop_scratch_server' EXIT
    port="$(free_port)"
    base="http://127.0.0.1:$port"
    env -i PATH="$PATH" HOME="$HOME" \
        DATA_DIR="$work/data" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_ENV=PROD \
        LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" "$@" \
        "$bin" >"$work/server.log" 2>&1 &
    server_pid=$!
    wait_listening "$port" "$server_pid" "$work/server.log" "the server"
}

# Waits (20 s at most) until something listens on loopback port $1, as long as process $2
# lives; shows log $3 and dies when it does not, naming it $4.
wait_listening() {
    for _ in $(seq 100); do
        address_in_use "127.0.0.1:$1" && return
        kill -0 "$2" 2>/dev/null || { cat "$3"; die "$4 did not start"; }
        sleep 0.2
    done
    die "$4 does not listen on $1"
}
stop_scratch_server() {
    [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "${work:?}"
}

# Puts Debian's nginx, configured with the README's own site (scripts/nginx-site.sh: TLS
# with a self-signed certificate, HTTP/2), in front of the scratch server started by
# start_scratch_server (call that first, with PUBLIC_URL="https://127.0.0.1:$1" and
# TRUSTED_PROXIES=127.0.0.1). $1 is the HTTPS port; sets `proxy_base` and `nginx_pid`.
start_scratch_nginx() {
    local https_port="$1" nginx
    nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    [ -x "$nginx" ] || die "nginx is not installed: run ./scripts/setup.sh --test (Debian's nginx-light)"
    "$ROOT/scripts/nginx-site.sh" "$work/nginx" "127.0.0.1:$port" "$https_port" "$(free_port)"
    "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
    nginx_pid=$!
    proxy_base="https://127.0.0.1:$https_port"
    wait_listening "$https_port" "$nginx_pid" "$work/nginx/error.log" "nginx"
}

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in README.md
# with TEXT (the benchmark scripts' --update-readme).
update_readme() {
    python3 - "$ROOT/README.md" "$1" "$2" <<'PY' || die "README.md was not updated"
import re, sys
path, name, table = sys.argv[1:4]
text = open(path).read()
pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
if not pattern.search(text):
    sys.exit(f"README.md has no <!-- {name}:start/end --> markers")
open(path, "w").write(pattern.sub(lambda m: m.group(1) + table + m.group(2), text))
PY
    log "README.md updated"
}
