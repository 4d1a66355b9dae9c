#!/usr/bin/env bash
# Fuzzes every operation of the public API with Schemathesis (PyPI, pinned in
# scripts/requirements-test.txt): starts the server on SQLite in a temporary
# directory, signs up its first account (an administrator), makes a personal access token
# with every scope, and runs `st run` against /api/v1/openapi.json with that token.
# Fails on any 5xx, any status code or body the document does not declare, any response
# with the wrong content type, and any response slower than 5 s.
#
#   scripts/fuzz-api.sh [EXTRA st run OPTIONS]     (after `cargo leptos build --release`;
#                                                   AVATAR_STUDIO_BIN picks another binary,
#                                                   as scripts/test.sh does: the debug one)
#
# FUZZ_EXAMPLES (default 20) bounds the generated cases per operation and phase.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bin="${AVATAR_STUDIO_BIN:-$CARGO_TARGET_DIR/release/avatar-studio}"
[ -x "$bin" ] || die "no release binary at $bin: run 'cargo leptos build --release' first"
command -v st >/dev/null || die "schemathesis is not installed: run scripts/setup.sh --test"

# Limits that would only slow the fuzzer down are raised; everything else is the default.
start_scratch_server "$bin" LOG_FORMAT=json RUST_LOG=warn,server=info \
    AUTH_RATE_LIMIT_PER_MINUTE=100000 BUILTIN_DELAY_MS=10 QUOTA_ACTIVE_JOBS=0 \
    QUOTA_IMAGES_PER_DAY=0

# The first account is the instance's administrator: its token may have every scope.
jar="$work/cookies"
curl -fsS -c "$jar" -H "Origin: $base" -H 'Content-Type: application/json' \
    -d '{"email":"fuzz@example.com","password":"fuzzing the whole api"}' \
    "$base/api/v1/auth/signup" >/dev/null
token="$(curl -fsS -b "$jar" -H "Origin: $base" -H 'Content-Type: application/json' \
    -d '{"name":"schemathesis","scopes":["read","generate","write","admin"]}' \
    "$base/api/v1/tokens" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
# Something to find: an image, a character and a collection of the account's own.
python3 - "$base" "$token" <<'PY'
import json, sys, urllib.request, zlib, struct
base, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None, content_type="application/json"):
    req = urllib.request.Request(base + path, data=body, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    return json.load(urllib.request.urlopen(req))
def png(w, h):
    raw = b"".join(b"\x00" + bytes([40, 120, 200]) * w for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
boundary = "fuzzboundary"
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n").encode() + png(64, 64) + f"\r\n--{boundary}--\r\n".encode()
call("POST", "/api/v1/uploads", body, f"multipart/form-data; boundary={boundary}")
call("POST", "/api/v1/characters", json.dumps({"name": "Ada"}).encode())
call("POST", "/api/v1/collections", json.dumps({"name": "Portraits"}).encode())
PY

log "fuzzing $base/api/v1/openapi.json"
st --no-color run "$base/api/v1/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-response-time 5 \
    --max-examples "${FUZZ_EXAMPLES:-20}" \
    --workers 2 \
    --generation-database none \
    --seed "${FUZZ_SEED:-1}" \
    "$@"
# Nothing the fuzzer sent may have crashed a request or the server.
if grep -q '"level":"ERROR"' "$work/server.log"; then
    grep '"level":"ERROR"' "$work/server.log" | head -20 >&2
    die "the server logged errors while being fuzzed"
fi
kill -0 "$server_pid" 2>/dev/null || die "the server stopped while being fuzzed"
