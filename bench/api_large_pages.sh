#!/usr/bin/env bash
# Peak RSS of `collector api` pulling large pages side by side.
#
#   bench/api_large_pages.sh [COLLECTOR_BIN]   default target/debug/collector
#
# Writes 8 pages of about 57 MiB (440,000 records each, a page strategy
# with total_pages) to /tmp/collector-api-pages, serves them with nginx on
# 127.0.0.1:18471 and pulls them at the default --concurrency (4) under
# /usr/bin/time -v; prints the peak RSS, the wall time and the records
# written. The pages in flight are held under a 128 MiB byte budget, so
# about two raw pages and one parsed page are in memory at once.
# All traffic stays on 127.0.0.1; nginx is stopped at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$(dirname "$here")/target/debug/collector}
dir=/tmp/collector-api-pages
mkdir -p "$dir"
if [ ! -f "$dir/p8.json" ]; then
  python3 - "$dir" <<'EOF'
import sys
dir, per = sys.argv[1], 440000
for p in range(1, 9):
    with open(f"{dir}/p{p}.json", "w") as f:
        f.write('{"page": %d, "total_pages": 8, "items": [' % p)
        base = (p - 1) * per
        f.write(",".join('{"id":%d,"name":"item %d","pad":"%s"}' % (base + i, base + i, "x" * 90)
                         for i in range(per)))
        f.write("]}")
EOF
fi
cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18471;
    root $dir;
    location /page { default_type application/json; try_files /p\$arg_page.json =404; }
  }
}
EOF
nginx -c "$dir/nginx.conf"
trap 'kill "$(cat "$dir/nginx.pid")"' EXIT
rm -rf "$dir/out"
/usr/bin/time -v "$bin" api 'http://127.0.0.1:18471/page?page=1' --paginate page \
  --total-pages total_pages --records items --out "$dir/out/big.jsonl" -q 2> "$dir/time.txt"
grep -E "Maximum resident|Elapsed" "$dir/time.txt"
echo "records: $(wc -l < "$dir/out/big.jsonl")"
