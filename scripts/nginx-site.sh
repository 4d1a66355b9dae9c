#!/usr/bin/env bash
# Writes a runnable nginx configuration whose site is the README's own ("Deploying"), so
# that what the README tells people to install is what the tests and benchmarks run:
#
#   scripts/nginx-site.sh DIR UPSTREAM HTTPS_PORT HTTP_PORT
#
# DIR gets nginx.conf, a self-signed certificate for 127.0.0.1 (cert.pem, key.pem) and
# nginx's temporary folders. The README's block is taken as written; only what names this
# machine changes: the listening ports (on 127.0.0.1), the certificate's paths, the server
# name and the app's address (UPSTREAM, host:port). Should the README's block no longer
# have one of those lines, this fails instead of running something else.
# Start it with: nginx -p DIR -c DIR/nginx.conf -e DIR/error.log
set -euo pipefail
source "$(dirname "$0")/common.sh"

[ $# -eq 4 ] || die "usage: scripts/nginx-site.sh DIR UPSTREAM HTTPS_PORT HTTP_PORT"
dir="$1" upstream="$2" https_port="$3" http_port="$4"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

if [ ! -f "$dir/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || die "openssl could not make a certificate"
fi

python3 - "$ROOT/README.md" "$dir" "$upstream" "$https_port" "$http_port" <<'PY' || die "the README's nginx site could not be adapted"
import re, sys
readme, d, upstream, https_port, http_port = sys.argv[1:6]
text = open(readme).read()
deploying = text[text.index("## Deploying"):]
site = re.search(r"```nginx\n(.*?)```", deploying, re.S).group(1)
swaps = [
    (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
    (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
    (r"ssl_certificate +\S+;", f"ssl_certificate {d}/cert.pem;"),
    (r"ssl_certificate_key +\S+;", f"ssl_certificate_key {d}/key.pem;"),
    (r"proxy_pass http://127\.0\.0\.1:3000;", f"proxy_pass http://{upstream};"),
    (r"server_name avatars\.example\.com;", "server_name 127.0.0.1;"),
]
for pattern, replacement in swaps:
    site, n = re.subn(pattern, lambda _: replacement, site)
    if n == 0:
        sys.exit(f"the README's nginx site has no line matching {pattern!r}")
indented = "".join("    " + line if line.strip() else line for line in site.splitlines(True))
open(f"{d}/nginx.conf", "w").write(f"""daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{indented}}}
""")
PY
