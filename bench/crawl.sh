#!/usr/bin/env bash
# Crawl benchmark: collector against wget2 on a generated local site.
#
#   bench/crawl.sh [PAGES] [RUNS]        default 10000 pages, 5 runs each
#
#   COLLECTOR_BIN=path    time that binary instead of building target/release
#   COLLECTOR_ARGS=...    extra crawl flags; {out} is the run's output dir,
#                         e.g. COLLECTOR_ARGS='--state {out}/state' for the
#                         resumable (on-disk frontier) crawl
#
# Generates a PAGES-page site over 4 hosts (~23 KB pages, ~30 links each)
# with ../shared/bench/gen_site.py, serves it with nginx on 127.0.0.1
# (ports 8081-8084), crawls it with wget2 and with collector at concurrency
# 64, output on tmpfs (/dev/shm), and checks from nginx's access log that
# every page was fetched exactly once. Prints, per crawler (medians):
# pages/s, CPU ms per page (user+sys), peak RSS, and the ratios to wget2
# measured in the same run. Needs root for apt (wget2, nginx, time) the
# first time. All traffic stays on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
bench=${BENCH_DIR:-$repo/../shared/bench}
pages=${1:-10000}
runs=${2:-5}
site=${SITE_DIR:-/tmp/collector-bench-site-$pages}
results=${RESULTS_DIR:-/tmp/collector-bench-results-$pages}
work=/dev/shm/collector-bench

[ -f "$bench/run_peers.py" ] || { echo "no $bench/run_peers.py (set BENCH_DIR)" >&2; exit 2; }
# A private copy of the runner whose nginx keeps fewer files open: its
# open_file_cache of 20000 entries exceeds a 20000 open-file limit, and on
# sites larger than that nginx starts answering 500.
runner=$(mktemp -d /tmp/collector-bench-runner.XXXXXX)
trap 'rm -rf "$runner"' EXIT
cp -r "$bench/run_peers.py" "$bench/serve.sh" "$bench/peers" "$runner/"
sed -i 's/open_file_cache max=20000/open_file_cache max=4000/' "$runner/serve.sh"
need_apt() {
  command -v wget2 >/dev/null || return 0
  [ -x /usr/bin/time ] || return 0
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || return 0
  return 1
}
if need_apt; then "$bench/install_peers.sh" apt; fi
[ -f "$site/site.json" ] || python3 "$bench/gen_site.py" --pages "$pages" --out "$site"
collector=${COLLECTOR_BIN:-$repo/target/release/collector}
[ -n "${COLLECTOR_BIN:-}" ] || (cd "$repo" && cargo build --release --locked)
rm -rf "$results" "$work"
mkdir -p "$results" "$work"

python3 "$runner/run_peers.py" --site "$site" --runs "$runs" --peers wget2,collector \
  --work "$work" --results "$results" \
  --collector-cmd "$collector crawl {seeds} --out {out} --concurrency {conc} --per-host {conc} --quiet ${COLLECTOR_ARGS:-}" \
  > "$results/run.log" 2>&1 || { cat "$results/run.log"; exit 1; }
grep -E ' run [0-9]+:' "$results/run.log"

python3 - "$results/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(peer, f):
    v = [f(r) for r in runs if r.get("peer") == peer]
    return statistics.median(v) if v else float("nan")
rows = {}
for peer in ("wget2", "collector"):
    rows[peer] = dict(
        pps=med(peer, lambda r: r["pages_per_s"]),
        cpu=med(peer, lambda r: 1000 * (r["user_s"] + r["sys_s"]) / max(r["pages_ok"], 1)),
        rss=med(peer, lambda r: r["peak_rss_mib"]),
        ok=med(peer, lambda r: r["pages_ok"]),
        dup=med(peer, lambda r: r["duplicate_requests"]),
    )
print()
print("%-10s %10s %14s %12s %10s %6s" % ("crawler", "pages/s", "CPU ms/page", "peak RSS MiB", "pages ok", "dup"))
for peer, r in rows.items():
    print("%-10s %10.0f %14.3f %12.1f %10d %6d" % (peer, r["pps"], r["cpu"], r["rss"], r["ok"], r["dup"]))
w, c = rows["wget2"], rows["collector"]
print()
print("collector / wget2: pages/s %.2fx, CPU per page %.2fx, peak RSS %.2fx" % (c["pps"] / w["pps"], c["cpu"] / w["cpu"], c["rss"] / w["rss"]))
PY
