#!/bin/sh
# `colod top` on a real terminal: run in tmux against pinned maps, capture
# the screen, check the header and the rows, change the sort key, quit with
# q. Needs root (bpffs, cgroups).
#
# Default: the maps come from tests/deploy/top_fixture.c (known rates for
# two cgroups this script creates, colod-test-top-ls/-be), pinned in a
# private bpffs mount, so the screen's numbers can be checked exactly.
# TOP_WITH_AGENT=1: the maps come from a real `colod run` instead; then the
# header and at least one row are checked.
#
#   TOP_BIN      the top command (default: "$COLOD_BIN top")
#   TOP_FIXTURE  build/tests/deploy/top_fixture
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COLOD_BIN=${COLOD_BIN:-$ROOT/build/colod}
PY=${PYTHON:-/usr/bin/python3}
[ "$(id -u)" = 0 ] || { echo "top-tmux: needs root" >&2; exit 1; }
command -v tmux >/dev/null || { echo "top-tmux: tmux missing" >&2; exit 1; }

if [ -z "${TOP_BIN:-}" ]; then
	TOP="$COLOD_BIN top"
elif "$COLOD_BIN" top --help >/dev/null 2>&1; then
	TOP="$COLOD_BIN top"	# the real CLI once main.c dispatches top
else
	TOP=$TOP_BIN
fi

T=$(mktemp -d /tmp/colod-test-top-XXXXXX)
SOCK=colod-test-top-$$
CPU=/sys/fs/cgroup/cpu
[ -d "$CPU" ] || CPU=/sys/fs/cgroup	# pure v2
LS=$CPU/colod-test-top-ls
BE=$CPU/colod-test-top-be
feeder=""
burner=""

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	if [ -n "$feeder" ]; then
		kill "$feeder" 2>/dev/null || true
		wait "$feeder" 2>/dev/null || true
	fi
	if [ -n "$burner" ]; then
		kill "$burner" 2>/dev/null || true
		wait "$burner" 2>/dev/null || true
	fi
	mountpoint -q "$T/bpffs" && umount "$T/bpffs"
	rmdir "$LS" "$BE" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

mkdir "$T/bpffs"
mount -t bpf bpf "$T/bpffs"	# a private bpffs instance: nothing shared

mkdir "$LS" "$BE"
if [ "${TOP_WITH_AGENT:-0}" = 1 ]; then
	# The real agent, with the demo configuration except for the rules:
	# they match only this test's cgroups, so the agent never touches a
	# cgroup it did not get from us. A busy loop in BE gives it work.
	PIN=$T/bpffs/colod
	cp -r "$ROOT/deploy/config" "$T/config"
	cat > "$T/config/colod-config" <<'JSON'
{
  "classificationRules": [
    { "match": "/colod-test-top-ls", "class": "LS", "latencyTargetUs": 1000 },
    { "match": "/colod-test-top-be", "class": "BE" }
  ]
}
JSON
	sh -c 'echo $$ > "$1/cgroup.procs"; while :; do :; done' sh "$BE" &
	burner=$!
	METRICS=127.0.0.1:$((20000 + $$ % 20000))
	"$COLOD_BIN" run --config "$T/config" --state-dir "$T/state" \
		--pin-dir "$PIN" --metrics-addr "$METRICS" >"$T/agent.log" 2>&1 &
	feeder=$!
else
	PIN=$T/bpffs
	if [ -f "$BE/cpu.cfs_quota_us" ]; then
		echo 100000 > "$BE/cpu.cfs_period_us"
		echo 20000 > "$BE/cpu.cfs_quota_us"
	else
		echo "20000 100000" > "$BE/cpu.max"
	fi
	"${TOP_FIXTURE:-$ROOT/build/tests/deploy/top_fixture}" "$PIN" "$LS" "$BE" \
		>"$T/agent.log" 2>&1 &
	feeder=$!
fi

i=0
until [ -e "$PIN/cg_stats" ] && [ -e "$PIN/headroom" ]; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$feeder" 2>/dev/null; then
		echo "top-tmux: no pinned maps in $PIN" >&2
		cat "$T/agent.log" >&2
		exit 1
	fi
	sleep 0.1
done

tmux -L "$SOCK" new-session -d -s top -x 160 -y 40 \
	"$TOP --pin-dir $PIN --cgroup-root /sys/fs/cgroup; echo top-exit=\$? > $T/exit; sleep 30"
screen() { tmux -L "$SOCK" capture-pane -p -t top > "$T/$1"; }
wait_for() {	# wait_for FILE PATTERN
	n=0
	while :; do
		screen "$1"
		grep -q "$2" "$T/$1" && return 0
		n=$((n + 1))
		[ $n -gt 100 ] && { echo "top-tmux: '$2' never on screen:" >&2; cat "$T/$1" >&2; return 1; }
		sleep 0.1
	done
}

wait_for frame1 'CGROUP'
sleep 2.5	# a few refreshes: rates settle over whole intervals
screen frame1

if [ "${TOP_WITH_AGENT:-0}" = 1 ]; then
	"$PY" - "$T/frame1" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].startswith("colod top"), lines[0]
hdr = [i for i, l in enumerate(lines) if l.split()[:4] == ["CLASS", "BY", "CPU%", "P99(us)"]]
assert hdr, "no column header"
rows = [l for l in lines[hdr[0] + 1:] if l.strip()]
assert rows and rows[0].split()[0] in ("ls", "be", "system", "-"), rows[:3]
be = [r.split() for r in rows if r.split()[-1] == "/colod-test-top-be"]
assert be and be[0][0] == "be", ("BE cgroup row", rows[:10])
assert be[0][1] == "rule", ("classed by a rule: BY column", be[0])
# the busy loop is BE work the agent must have throttled (quota or idle)
assert "quota" in be[0] or "idle" in be[0], ("BE not throttled", be[0])
# the kernel keeps histograms for LS only: BE's waits show without a p99
assert be[0][3] == "-" or float(be[0][4]) == 0, ("BE row has a p99", be[0])
print("top-tmux: agent: %d rows; BE row %s" % (len(rows), " ".join(be[0])))
PY
else
	"$PY" - "$T/frame1" cpu <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
want_sort = sys.argv[2]
assert lines[0].startswith("colod top"), lines[0]
assert "sort: %s" % want_sort in lines[0], lines[0]
assert "batch 1234m 3.0GiB" in lines[1] and "mid 567m 1.0GiB" in lines[1], lines[1]
hdr = [i for i, l in enumerate(lines) if l.split()[:4] == ["CLASS", "BY", "CPU%", "P99(us)"]]
assert hdr, "no column header"
rows = {}
order = []
for l in lines[hdr[0] + 1:]:
    f = l.split()
    if f and f[-1].startswith("/colod-test-top-"):
        # BY: the fixture sets no source bits, which reads as the directory
        assert f[1] == "dir", f
        rows[f[-1]] = f[:1] + f[2:]
        order.append(f[-1])
be, ls = rows["/colod-test-top-be"], rows["/colod-test-top-ls"]
assert be[0] == "be" and ls[0] == "ls", (be, ls)
# fixture rates: BE 100% CPU, p99 200 us (slot 192-208), 10 ms/s reclaim;
# LS 50% CPU, p99 5000 us (slot 4608-5120)
assert 70 <= float(be[1]) <= 130, be
assert 35 <= float(ls[1]) <= 65, ls
assert 192 <= float(be[2]) <= 208, be
assert 4608 <= float(ls[2]) <= 5120, ls
assert 700 <= float(be[3]) <= 1300, be		# 1000 wakeups/s
assert 7.0 <= float(be[4].rstrip("ms")) <= 13.0, be
assert " ".join(be[5:7]) == "quota 20%", be
assert ls[5] == "-", ls
first = order.index("/colod-test-top-be") < order.index("/colod-test-top-ls")
assert first == (want_sort == "cpu"), (want_sort, order)
print("top-tmux: frame ok, sort %s: %s" % (want_sort, order))
PY
fi

# sort by run-queue p99, then quit
tmux -L "$SOCK" send-keys -t top l
wait_for frame2 'sort: p99'
if [ "${TOP_WITH_AGENT:-0}" != 1 ]; then
	sleep 1.2
	screen frame2
	"$PY" - "$T/frame2" p99 <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
order = [l.split()[-1] for l in lines if l.split() and l.split()[-1].startswith("/colod-test-top-")]
assert order.index("/colod-test-top-ls") < order.index("/colod-test-top-be"), order
print("top-tmux: sort by p99: %s" % order)
PY
fi
tmux -L "$SOCK" send-keys -t top q
n=0
until [ -f "$T/exit" ]; do
	n=$((n + 1))
	[ $n -gt 50 ] && { echo "top-tmux: q did not quit" >&2; exit 1; }
	sleep 0.1
done
grep -q 'top-exit=0' "$T/exit" || { echo "top-tmux: top exited: $(cat "$T/exit")" >&2; exit 1; }
# the alternate screen is gone: the shell's screen is back
screen after
! grep -q 'CGROUP' "$T/after" || { echo "top-tmux: screen not restored" >&2; exit 1; }
if [ "${TOP_WITH_AGENT:-0}" = 1 ]; then
	# the agent's own /metrics, through the same Prometheus parser
	n=0
	until [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://$METRICS/readyz")" = 200 ]; do
		n=$((n + 1))
		[ $n -gt 300 ] && { echo "top-tmux: agent never ready" >&2; cat "$T/agent.log" >&2; exit 1; }
		sleep 0.1
	done
	SCRAPE_URL=http://$METRICS "$ROOT/tests/deploy/metrics-scrape.sh"
fi
echo "top-tmux: ok"
