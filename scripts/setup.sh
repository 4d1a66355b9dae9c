#!/usr/bin/env bash
# Installs what building and testing Avatar Studio needs, on a Debian machine with Rust.
# Idempotent: a tool that is already installed at the right version is left alone.
#
#   scripts/setup.sh          the build toolchain (enough to run the app)
#   scripts/setup.sh --test   and the test tools: Node packages, Debian's Chromium
set -euo pipefail
source "$(dirname "$0")/common.sh"

want_test=false
[ "${1:-}" = "--test" ] && want_test=true

command -v cargo >/dev/null || die "cargo is not installed: install Rust first (https://rustup.rs)"
command -v rustup >/dev/null || die "rustup is needed to add the wasm32 target"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# Build tools are compiled once per machine. Their release profiles ask for fat LTO, one
# codegen unit and full optimisation, which on a two-core machine takes over 20 minutes
# for cargo-leptos alone; light optimisation is plenty for a build orchestrator and takes
# a fraction of that. The tools build in cargo's own temporary directory, not in the
# project's target directory.
install_tool() {
    env -u CARGO_TARGET_DIR \
        CARGO_PROFILE_RELEASE_LTO=false \
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        CARGO_PROFILE_RELEASE_DEBUG=false \
        cargo install "$@"
}

command -v npm >/dev/null || {
    log "installing Node.js and npm from Debian"
    as_root apt-get update -qq
    as_root apt-get install -y -qq nodejs npm
}

# npm ci only when package-lock.json changed since the last install.
npm_install() {
    local dir="$1" stamp="$1/node_modules/.installed-lock"
    if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return; fi
    log "installing Node packages in ${dir#"$ROOT"/}"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
}
# The test tools download and install while the build tools compile: the one waits on
# the network and the disk, the other on the processors, so together they take little
# longer than the compilation alone. Their output is shown once they are done.
install_test_tools() {
    npm_install "$ROOT/end2end"
    # Python tools, pinned: pip runs only when the requirements changed since the last install.
    requirements="$ROOT/scripts/requirements-test.txt"
    if ! cmp -s "$requirements" "$TEST_VENV/.installed-requirements" 2>/dev/null; then
        command -v python3 >/dev/null || { as_root apt-get update -qq; as_root apt-get install -y -qq python3; }
        if [ ! -x "$TEST_VENV/bin/python" ]; then
            log "creating the Python environment for the test tools in $TEST_VENV"
            python3 -m venv "$TEST_VENV" 2>/dev/null || {
                as_root apt-get update -qq
                as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                python3 -m venv "$TEST_VENV"
            }
        fi
        log "installing the Python test tools (moto, openai, google-genai, schemathesis)"
        "$TEST_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$TEST_VENV/.installed-requirements"
    fi
    if [ ! -x /usr/bin/chromium ]; then
        log "installing Chromium from Debian for the end-to-end tests"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    # nginx in front of the app, for the reverse-proxy tests (started by the tests on a
    # loopback port; RUNLEVEL=1 keeps the package from starting its own server on :80).
    if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
        log "installing nginx from Debian for the reverse-proxy tests"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq nginx-light >/dev/null
    fi
}
if $want_test; then
    test_tools_log="$(mktemp)"
    install_test_tools >"$test_tools_log" 2>&1 &
    test_tools=$!
    # Should the compilation fail, the installs stop with it.
    trap 'kill "$test_tools" 2>/dev/null || true; rm -f "$test_tools_log"' EXIT
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (several minutes, once)"
    install_tool cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# Cargo.lock may not exist yet in a brand-new checkout: resolve it first.
[ -f "$ROOT/Cargo.lock" ] || (cd "$ROOT" && cargo generate-lockfile)
wb_version="$(wasm_bindgen_version)"
[ -n "$wb_version" ] || die "cannot find the wasm-bindgen version in Cargo.lock"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
    log "installing wasm-bindgen-cli $wb_version (matches Cargo.lock)"
    # Without --locked: the CLI's own lock file names a crate version the registry lacks.
    install_tool wasm-bindgen-cli --version "$wb_version" --force
fi

npm_install "$ROOT/tools"
command -v wasm-opt >/dev/null || die "wasm-opt is missing after installing tools/ (binaryen)"

if $want_test; then
    rc=0
    wait "$test_tools" || rc=$?
    cat "$test_tools_log"
    rm -f "$test_tools_log"
    trap - EXIT
    [ "$rc" -eq 0 ] || die "installing the test tools failed (exit $rc)"
fi
log "setup complete"
