#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The demo's nginx and ffmpeg with no cgroup and no colod, under each CPU
# lever the kernel offers, to see what each costs nginx's tail on this node
# (docs/DEMO.md, "What the levers can do here"). Each arrangement pins with
# taskset and runs ffmpeg SCHED_IDLE (what cpu.idle gives a cgroup):
#
#   alone        nginx + wrk on every CPU, no ffmpeg
#   idle-all     ffmpeg on every CPU        (the static cpu.idle lever)
#   idle-last    ffmpeg on the last CPU     (cpuset: BE on a CPU subset)
#   ls-first     nginx + wrk on CPU 0 only, no ffmpeg
#   split        nginx + wrk on CPU 0, ffmpeg on the last CPU (no sharing)
#
# and two in kubelet's layout (v1 cpu hierarchy, as on this machine),
# ffmpeg at normal policy, nginx and ffmpeg on every CPU, wrk outside:
#
#   idle-pod     kubepods/besteffort/pod cpu.idle 1: where colod puts it
#   slice-pod    idle-pod, and ffmpeg's threads at a 100 ms EEVDF slice
#                (slice.py): what beSchedSliceUs adds (kernel 6.12+)
#   idle-tier    kubepods/besteffort cpu.idle 1: where the kernel would
#                need it (kubelet's cpu.shares writes there then fail)
#
# wrk runs SCHED_FIFO, as in the demo: it stands for clients that are not
# on this node. LOADGEN_PRIO=normal runs it as any task, which puts its own
# waits behind ffmpeg into the latency it measures.
#
# Usage: scripts/demo/levers.sh [SECONDS [ROUNDS [ARRANGEMENTS]]]
#        (20 s, 2 rounds, all of them)
# Prints one line per run: p50, p99, req/s, node busy, ffmpeg fps.
set -eu

SECS=${1:-20}
ROUNDS=${2:-2}
WHICH=${3:-alone idle-all idle-last ls-first split idle-pod slice-pod idle-tier}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=18080
for t in nginx wrk ffmpeg taskset chrt python3; do
	command -v $t >/dev/null || { echo "levers.sh: $t not found" >&2; exit 1; }
done
NCPU=$(nproc)
LAST=$((NCPU - 1))
WRK_PRIO="chrt -f 1"
[ "${LOADGEN_PRIO:-fifo}" = normal ] && WRK_PRIO=
ALL=0-$LAST
T=$(mktemp -d /tmp/colod-levers.XXXXXX)
CG=/sys/fs/cgroup/cpu/colod-levers
NGINX= FF=
cleanup() {
	[ -n "$FF" ] && kill "$FF" 2>/dev/null
	[ -n "$NGINX" ] && kill "$NGINX" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
	cg_remove
}

# kubelet's layout and weights, as the demo makes it (a 2048-share node)
cg_make() {	# the level that gets cpu.idle 1: pod or tier
	cg_remove
	mkdir -p "$CG/kubepods/pod-ls" "$CG/kubepods/besteffort/pod-be"
	echo $((1024 * NCPU)) > "$CG/kubepods/cpu.shares"
	echo $((1024 * NCPU)) > "$CG/kubepods/pod-ls/cpu.shares"
	echo 2 > "$CG/kubepods/besteffort/cpu.shares"
	echo 2 > "$CG/kubepods/besteffort/pod-be/cpu.shares"
	case $1 in
	pod)	echo 1 > "$CG/kubepods/besteffort/pod-be/cpu.idle" ;;
	tier)	echo 1 > "$CG/kubepods/besteffort/cpu.idle" ;;
	esac
}

cg_remove() {
	[ -d "$CG" ] || return 0
	find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mkdir -p "$T/www" "$T/tmp"
chmod 755 "$T"
python3 -c "import sys; sys.path.insert(0, '$HERE'); import demo; demo.make_page('$T/www/index.html')"
sed -e "s#@DIR@#$T#g" -e "s#@PORT@#$PORT#g" "$HERE/nginx.conf.in" > "$T/nginx.conf"

busy() {	# busy and total jiffies of all CPUs
	awk '/^cpu /{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

frames() {
	grep -a '^frame=' "$T/progress" 2>/dev/null | tail -1 | cut -d= -f2 || true
}

join() {	# run the rest in cgroup dir $1 (none: where we are)
	local d=$1
	shift
	[ "$d" = none ] || echo $BASHPID > "$d/cgroup.procs"
	exec "$@"
}

run() {	# name, nginx+wrk CPUs, ffmpeg CPUs or -, [nginx cgroup, ffmpeg cgroup, slice ns]
	local name=$1 ls=$2 be=$3 lscg=${4:-none} becg=${5:-none} b0 b1 f0=0 f1=0 out
	local idle="chrt -i 0"
	[ "$becg" = none ] || idle=	# the cgroup's cpu.idle is the lever
	[ -n "${6:-}" ] && idle="python3 $HERE/slice.py $6"
	case " $WHICH " in *" $name "*) ;; *) return 0 ;; esac
	(join "$lscg" taskset -c "$ls" nginx -c "$T/nginx.conf" -p "$T" -e "$T/error.log") &
	NGINX=$!
	sleep 0.5
	if [ "$be" != - ]; then
		rm -f "$T/progress"
		(join "$becg" taskset -c "$be" $idle ffmpeg -nostdin -hide_banner -loglevel error \
			-f lavfi -i testsrc2=size=1280x720:rate=30 -c:v libx264 -preset veryfast \
			-threads 2 -progress "$T/progress" -stats_period 0.5 -f null -) &
		FF=$!
		sleep 2
		f0=$(frames)
	fi
	b0=$(busy)
	out=$(COLOD_DEMO_THINK_MS=3 taskset -c "$ls" $WRK_PRIO wrk -t1 -c8 -d"${SECS}s" --timeout 2s \
		-s "$HERE/wrk.lua" --latency "http://127.0.0.1:$PORT/index.html")
	b1=$(busy)
	[ "$be" != - ] && f1=$(frames)
	[ -n "$FF" ] && { kill "$FF"; wait "$FF" 2>/dev/null || true; FF=; }
	kill "$NGINX"; wait "$NGINX" 2>/dev/null || true; NGINX=
	echo "$out" | awk -v n="$name" -v b0="$b0" -v b1="$b1" -v f="$(( (${f1:-0} - ${f0:-0}) / SECS ))" \
		-v be="$be" '
		$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } /^Requests\/sec/ { rps = $2 }
		END {
			split(b0, x, " "); split(b1, y, " ")
			printf "%-10s p50 %8s  p99 %8s  req/s %8s  node %3.0f%%  fps %s\n", n, p50, p99,
				rps, 100 * (y[1] - x[1]) / (y[2] - x[2]), be == "-" ? "-" : f
		}'
	sleep 0.5
}

echo "# $NCPU CPUs, $SECS s per run, $ROUNDS rounds, wrk ${WRK_PRIO:-normal}, $(date -u +%FT%TZ)"
for r in $(seq "$ROUNDS"); do
	run alone "$ALL" -
	run idle-all "$ALL" "$ALL"
	run idle-last "$ALL" "$LAST"
	run ls-first 0 -
	run split 0 "$LAST"
	if [ -d /sys/fs/cgroup/cpu ]; then
		cg_make pod
		run idle-pod "$ALL" "$ALL" "$CG/kubepods/pod-ls" "$CG/kubepods/besteffort/pod-be"
		run slice-pod "$ALL" "$ALL" "$CG/kubepods/pod-ls" "$CG/kubepods/besteffort/pod-be" \
			100000000
		cg_make tier
		run idle-tier "$ALL" "$ALL" "$CG/kubepods/pod-ls" "$CG/kubepods/besteffort/pod-be"
		cg_remove
	else
		echo "# idle-pod, idle-tier: no v1 cpu hierarchy at /sys/fs/cgroup/cpu, skipped"
	fi
done
