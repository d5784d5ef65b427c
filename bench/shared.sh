#!/usr/bin/env bash
# Shared-crawl benchmark: 1, 2 and 4 workers on one frontier in Redis
# against the in-memory crawl, on the generated local site of crawl.sh.
#
#   bench/shared.sh [PAGES] [WORKERS...]     default 10000 pages, workers 1 2 4
#
#   COLLECTOR_BIN=path    time that binary instead of building target/release
#
# Serves the site with nginx on 127.0.0.1 (../shared/bench/serve.sh) and
# starts a redis-server of its own on a free loopback port (no
# persistence: this measures the frontier, not the disk). For the
# in-memory crawl and for each worker count it prints pages/s (wall time
# from the first worker's start to the last one's end), CPU ms per page of
# the workers together, the peak RSS of the largest worker, Redis round
# trips (script calls) and commands (including those the scripts run) per
# page from INFO commandstats, the seen set's bytes per URL in Redis, and
# redis-server's own CPU per page. All traffic stays on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
bench=${BENCH_DIR:-$repo/../shared/bench}
pages=${1:-10000}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2 4)
site=${SITE_DIR:-/tmp/collector-bench-site-$pages}
work=/dev/shm/collector-shared-bench
collector=${COLLECTOR_BIN:-$repo/target/release/collector}
[ -n "${COLLECTOR_BIN:-}" ] || (cd "$repo" && cargo build --release --locked)
command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 2; }
[ -f "$site/site.json" ] || python3 "$bench/gen_site.py" --pages "$pages" --out "$site"

rm -rf "$work"
mkdir -p "$work"
NGINX_WORKERS=1 "$bench/serve.sh" start "$site" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile redis.log --daemonize no >/dev/null 2>&1 &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  "$bench/serve.sh" stop "$site" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rcli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.05; done
url="redis://127.0.0.1:$port/0"
seeds="$site/seeds.txt"
[ -f "$seeds" ] || { echo "no $seeds (made by gen_site.py)" >&2; exit 2; }

# Prints: label pages wall_s cpu_s max_rss_kib
timed() {
  local label=$1 n=$2
  shift 2
  local start end
  start=$(date +%s.%N)
  local pids=()
  for i in $(seq "$n"); do
    /usr/bin/time -f "%U %S %M" -o "$work/time.$label.$i" "$@" --out "$work/out.$label.$i" >/dev/null 2>"$work/err.$label.$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  local pages=0 cpu=0 rss=0
  for i in $(seq "$n"); do
    read -r u s m < "$work/time.$label.$i"
    cpu=$(python3 -c "print($cpu + $u + $s)")
    [ "$m" -gt "$rss" ] && rss=$m
    pages=$((pages + $(cat "$work/out.$label.$i/pages.jsonl" | wc -l)))
  done
  echo "$label $pages $(python3 -c "print($end - $start)") $cpu $rss"
}

results=()
results+=("$(timed memory 1 "$collector" crawl "$seeds" --concurrency 64 --per-host 64 --quiet --no-report)")
# redis-server's CPU seconds so far (user + system), from /proc.
redis_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$redis_pid/stat"; }
for n in "${counts[@]}"; do
  rcli flushall >/dev/null
  rcli config resetstat >/dev/null
  before=$(redis_cpu)
  line=$(timed "redis-$n" "$n" "$collector" crawl "$seeds" --frontier "$url" --job bench \
    --concurrency 64 --per-host 64 --quiet --no-report)
  stats=$(rcli info commandstats)
  calls=$(echo "$stats" | sed -n 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\).*/\1 \2/p' \
    | awk '{t+=$2; if ($1=="evalsha"||$1=="eval") s+=$2} END {print s, t}')
  bytes=$("$collector" status --frontier "$url" --job bench --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f %d" % (d["seen_bytes_per_url"], d["done"]))')
  redis_s=$(python3 -c "print($(redis_cpu) - $before)")
  results+=("$line $calls $bytes $redis_s")
done

python3 - "${results[@]}" <<'PY'
import sys
rows = [l.split() for l in sys.argv[1:]]
base = None
print("%-9s %8s %9s %12s %13s %13s %14s %11s %15s" % ("run", "pages", "pages/s", "CPU ms/page", "max RSS MiB", "scripts/page", "commands/page", "seen B/URL", "Redis CPU ms/p"))
for r in rows:
    label, pages, wall, cpu, rss = r[0], int(r[1]), float(r[2]), float(r[3]), int(r[4])
    pps = pages / wall
    base = base or pps
    extra = ("%13.2f %14.1f %11s %15.3f" % (int(r[5]) / pages, int(r[6]) / pages, r[7], 1000 * float(r[9]) / pages)) if len(r) > 5 else "%13s %14s %11s %15s" % ("-", "-", "-", "-")
    print("%-9s %8d %9.0f %12.3f %13.1f %s   (%.2fx in-memory)" % (label, pages, pps, 1000 * cpu / pages, rss / 1024, extra, pps / base))
PY
