#!/bin/sh
# Scrape the metrics server and parse every line with a Prometheus
# text-format parser that is not ours: python3-prometheus-client's
# text_string_to_metric_families (Debian package). Also checks /healthz,
# /readyz, the content type, and that histograms are well formed.
#   usage: metrics-scrape.sh METRICS_FIXTURE   (or SCRAPE_URL=http://host:port)
set -eu
PYTHON=${PYTHON:-/usr/bin/python3}
dir=$(mktemp -d /tmp/colod-test-scrape-XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ -n "${SCRAPE_URL:-}" ]; then
	base=$SCRAPE_URL
	mode=url
else
	mode=fixture
	"$1" >"$dir/out" 2>"$dir/err" &
	pid=$!
	i=0
	while ! grep -q '^port ' "$dir/out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 300 ] && { echo "metrics-scrape: server did not start" >&2; cat "$dir/err" >&2; exit 1; }
		sleep 0.1
	done
	base="http://127.0.0.1:$(sed -n 's/^port //p' "$dir/out")"
fi

code() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$base$1"; }
[ "$(code /healthz)" = 200 ] || { echo "metrics-scrape: /healthz not 200" >&2; exit 1; }
[ "$(code /readyz)" = 200 ] || { echo "metrics-scrape: /readyz not 200" >&2; exit 1; }
[ "$(code /nope)" = 404 ] || { echo "metrics-scrape: /nope not 404" >&2; exit 1; }
curl -s --noproxy '*' -D "$dir/headers" -o "$dir/scrape" "$base/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$dir/headers" ||
	{ echo "metrics-scrape: wrong content type:" >&2; cat "$dir/headers" >&2; exit 1; }

"$PYTHON" - "$dir/scrape" "$mode" <<'PY'
import math, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
assert text.endswith("\n"), "exposition must end with a newline"
fams = list(text_string_to_metric_families(text))
samples = [s for f in fams for s in f.samples]
lines = [l for l in text.splitlines() if l and not l.startswith("#")]
# every sample line was understood: same count, nothing skipped
assert len(samples) == len(lines), (len(samples), len(lines))
names = {}
for f in fams:
    assert f.name not in names, "family %s appears twice" % f.name
    names[f.name] = f

want = {
    "colod_cgroup_runq_latency_seconds": "histogram",
    "colod_cgroup_cpu_seconds": "counter",
    "colod_cgroup_reclaim_stall_seconds": "counter",
    "colod_cgroup_info": "gauge",
    "colod_batch_cpu_milli": "gauge",
    "colod_batch_memory_bytes": "gauge",
    "colod_mid_cpu_milli": "gauge",
    "colod_mid_memory_bytes": "gauge",
    "colod_actions": "counter",
    "colod_config_reloads": "counter",
    "colod_config_errors": "counter",
    "colod_bpf_map_full": "counter",
    "colod_ringbuf_drops": "counter",
}
for n, t in want.items():
    assert n in names, "missing family %s (have %s)" % (n, sorted(names))
    assert names[n].type == t, "%s is %s, want %s" % (n, names[n].type, t)

# histograms: cumulative, +Inf == _count, per series
h = names["colod_cgroup_runq_latency_seconds"]
series = {}
for s in h.samples:
    cg = s.labels["cgroup"]
    series.setdefault(cg, {"b": [], "count": None, "sum": None})
    if s.name.endswith("_bucket"):
        series[cg]["b"].append((float(s.labels["le"]), s.value))
    elif s.name.endswith("_count"):
        series[cg]["count"] = s.value
    elif s.name.endswith("_sum"):
        series[cg]["sum"] = s.value
# the agent keeps (and renders) histograms of LS cgroups only
ls_cgs = {s.labels["cgroup"] for s in names["colod_cgroup_info"].samples
          if s.labels["class"] == "ls"}
assert series and set(series) == ls_cgs, (sorted(series), sorted(ls_cgs))
for cg, d in series.items():
    b = d["b"]
    assert b[-1][0] == math.inf, cg
    assert all(b[i][0] < b[i + 1][0] for i in range(len(b) - 1)), cg
    assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), cg
    assert b[-1][1] == d["count"], (cg, b[-1][1], d["count"])
    assert d["sum"] is not None and d["sum"] >= 0
# label escaping survived a real parser
cgs = {s.labels["cgroup"] for s in names["colod_cgroup_info"].samples}
classes = {s.labels["class"] for s in names["colod_cgroup_info"].samples}
assert classes <= {"ls", "be", "system"}, classes
print("metrics-scrape: %d families, %d samples parsed by prometheus_client; cgroups %s"
      % (len(fams), len(samples), sorted(cgs)))
if len(sys.argv) > 2 and sys.argv[2] == "fixture":
    assert '/kubepods/besteffort/pod"quoted"\\back' in cgs, cgs
PY
echo "metrics-scrape: ok"
