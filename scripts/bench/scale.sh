#!/bin/sh
# colod run on a big node (issue 15): kernel and agent memory, and the
# agent's CPU per tick, with N cgroups that colod tracks. POSIX sh: runs on
# the host (tick cost) and in the test VM's busybox with 255 possible CPUs
# (memory; the VM's time is emulated, its CPU figure means nothing).
#
# usage: scale.sh [COLOD [N [SECONDS [PARENT]]]]
#   COLOD    the colod binary (default: colod on PATH)
#   N        cgroups (default 2000): N/4 LS and N/4 BE pods, each a pod
#            cgroup with one container (kubelet's shape), under
#            PARENT/colod-scale-PID/{ls,be}/pod-I/ctr-0, classified by the
#            rules /colod-scale-PID/ls/* LS and /colod-scale-PID/be/* BE
#   SECONDS  the CPU window (default 30), after a 10 s settle
#   SCALE_METRICS=HOST:PORT in the environment: /metrics served there
#   SCALE_SCRAPE=S: with SCALE_METRICS, /metrics scraped every S seconds
#            during the window (as Prometheus does; curl)
#   SCALE_NO_RUN=1: no task runs in the cgroups (agent memory and CPU only)
#   SCALE_SLICE_US=US: beSchedSliceUs (default 0: off), the BE threads' slice
#            set and checked at every tick over the N/4 BE pods' trees
#   PARENT   default /sys/fs/cgroup on pure v2, /sys/fs/cgroup/cpu on v1
#
# Stages (Percpu, Slab and SUnreclaim of /proc/meminfo, kB, and the change):
#   cgroups  the N cgroups made, and a short task run in each, before
#            colod (what a node's runtime leaves is the cgroups' cost)
#   running  colod run is up (its 'running:' line), all N tracked
#   ran      one short task ran in each of the N again (every one has its
#            cg_stats entry: the most kernel memory they can take)
#   window   after the settle and the CPU window
#   stopped  colod gone (maps freed, knobs restored)
# then one 'result' line:
#   kernel_kb  Percpu + Slab at 'window' minus at 'cgroups'
#   rss_kb / hwm_kb  colod run's VmRSS and VmHWM at the end of the window
#   total_kb   kernel_kb + hwm_kb: what the node pays for colod
#   kernel_unreclaimable_kb, total_unreclaimable_kb  the same without
#              SReclaimable (dentries and inodes the kernel can give back)
#   cpu_pct    colod run's utime+stime over the window, % of one core
#   tracked    cgroups tracked ('running:' line)
# Removes its cgroups, state and pin directories on every exit.
#
# As the test VM's driver (no arguments, colod.budget= on the kernel
# command line) it runs 2,000 then 10,000 cgroups and ends with the
# COLOD-VM-CHECK and COLOD-VM-RESULT lines the host waits for.
set -u

if [ $# = 0 ] && grep -q colod.budget= /proc/cmdline 2>/dev/null; then
	pass=0
	for vm_n in 2000 10000; do
		sh "$0" /bin/colod $vm_n 10 && pass=$((pass + 1)) ||
			echo "COLOD-VM-CHECK: FAIL scale $vm_n"
	done
	echo "COLOD-VM-RESULT: $([ $pass = 2 ] && echo PASS || echo FAIL) $pass/2"
	exit 0
fi

colod=${1:-$(command -v colod)}
case "$colod" in /*) ;; *) colod=$PWD/$colod ;; esac
n=${2:-2000}
secs=${3:-30}
parent=${4:-}
settle=10
# SCALE_METRICS=HOST:PORT serves /metrics as the DaemonSet does; default off
metrics=${SCALE_METRICS:-off}
scrape=${SCALE_SCRAPE:-0}
scraper=
if [ -z "$parent" ]; then
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		parent=/sys/fs/cgroup
	else
		parent=/sys/fs/cgroup/cpu
	fi
fi
name=colod-scale-$$
base=$parent/$name
work=$(mktemp -d /tmp/colod-scale.XXXXXX)
pin=/sys/fs/bpf/$name
pods=$((n / 4))
pid=

cleanup() {
	[ -n "$scraper" ] && kill "$scraper" 2>/dev/null
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		"$colod" restore --state-dir "$work/state" >/dev/null 2>&1
	fi
	for cls in ls be; do
		i=0
		while [ $i -lt $pods ]; do
			rmdir "$base/$cls/pod-$i/ctr-0" "$base/$cls/pod-$i" 2>/dev/null
			i=$((i + 1))
		done
		rmdir "$base/$cls" 2>/dev/null
	done
	rmdir "$base" 2>/dev/null
	rm -rf "$work" "$pin"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Percpu, Slab and SUnreclaim, kB. Slab's reclaimable part is mostly the
# dentry and inode cache of the cgroupfs files colod opens, which the
# kernel gives back under pressure; the result shows both.
mem() {
	awk '/^Percpu:/ { p = $2 } /^Slab:/ { s = $2 } /^SUnreclaim:/ { u = $2 }
	     END { print p, s, u }' /proc/meminfo
}

last=
first=
stage() {
	sync
	sleep 2
	cur=$(mem)
	[ -n "$first" ] || first=$cur
	echo "$1 $cur $last" | awk '{ if (NF == 7)
		printf "%-8s Percpu %8d kB (%+8d)  Slab %8d kB (%+8d)  SUnreclaim %8d kB (%+8d)\n",
			$1, $2, $2 - $5, $3, $3 - $6, $4, $4 - $7
		else printf "%-8s Percpu %8d kB             Slab %8d kB             SUnreclaim %8d kB\n",
			$1, $2, $3, $4 }'
	last=$cur
}

# VmRSS VmHWM of colod run, kB
status() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' /proc/$pid/status
}

# utime + stime of colod run, clock ticks (USER_HZ, 100 on Linux)
ticks() {
	sed 's/.*) //' /proc/$pid/stat | awk '{ print $12 + $13 }'
}

# one short task in each cgroup (none with SCALE_NO_RUN=1)
run_all() {
	for cls in ls be; do
		i=0
		while [ $i -lt $pods_run ]; do
			for d in "$base/$cls/pod-$i" "$base/$cls/pod-$i/ctr-0"; do
				sh -c "echo \$\$ > $d/cgroup.procs && exec true"
			done
			i=$((i + 1))
		done
	done
}

echo "scale: $n cgroups under $base, possible CPUs $(cat /sys/devices/system/cpu/possible)," \
     "kernel $(uname -r), colod $colod"
mkdir -p "$base/ls" "$base/be" "$work/config" "$work/state" || exit 1
if [ -f "$base/cgroup.subtree_control" ]; then
	# v2: the pods get cpu.max, cpu.idle, memory.* as under kubelet
	for d in "$base" "$base/ls" "$base/be"; do
		echo "+cpu +memory" > "$d/cgroup.subtree_control" || exit 1
	done
fi
t0=$(date +%s)
for cls in ls be; do
	i=0
	while [ $i -lt $pods ]; do
		mkdir "$base/$cls/pod-$i" "$base/$cls/pod-$i/ctr-0" || exit 1
		i=$((i + 1))
	done
done
echo "scale: made $((pods * 4)) cgroups in $(($(date +%s) - t0)) s"
[ "${SCALE_NO_RUN:-0}" = 1 ] && pods_run=0 || pods_run=$pods
# A task in each, before colod too: on a node the runtime has written each
# cgroup.procs already, and the kernel objects that leaves (the file's
# dentry and inode) are the cgroups' own, not colod's.
run_all
stage cgroups

cd "$work/config" || exit 1
echo '{ "enable": true }' > colocation-config
echo '{ "clusterStrategy": { "enable": true, "cpuSuppressPolicy": "cfsQuota",
  "cpuSuppressThresholdPercent": 90 } }' > resource-threshold-config
echo '{ "clusterStrategy": { "beClass": { "cpuQOS": { "enable": true, "schedIdle": 1 } } } }' \
	> resource-qos-config
echo "{ \"beSchedSliceUs\": ${SCALE_SLICE_US:-0}, \"classificationRules\": [
  { \"match\": \"/$name/ls/*\", \"class\": \"LS\" },
  { \"match\": \"/$name/be/*\", \"class\": \"BE\" } ] }" > colod-config
cd / || exit 1
"$colod" run --config "$work/config" --state-dir "$work/state" --pin-dir "$pin" \
	--metrics-addr "$metrics" >"$work/log" 2>&1 &
pid=$!
t=0
until grep -q 'running:' "$work/log"; do
	if ! kill -0 $pid 2>/dev/null || [ $t -ge 1200 ]; then
		echo "scale: colod run did not start:" >&2
		tail -n 20 "$work/log" >&2
		exit 1
	fi
	sleep 0.5
	t=$((t + 1))
done
tracked=$(sed -n 's/.*running: \([0-9]*\) cgroups.*/\1/p' "$work/log" | tail -n 1)
echo "scale: colod run up in $((t / 2)) s, $tracked tracked, VmRSS VmHWM $(status) kB"
stage running

# again under colod: each gets its cg_stats entry
run_all
stage ran

sleep $settle
if [ "$metrics" != off ] && [ "$scrape" != 0 ] && command -v curl >/dev/null; then
	# bounded: one scrape per interval over the window, each at most 10 s
	(
		k=0
		while [ $k -le $((secs / scrape)) ]; do
			curl -s -m 10 -o /dev/null "http://$metrics/metrics"
			sleep "$scrape"
			k=$((k + 1))
		done
	) &
	scraper=$!
	echo "scale: /metrics scraped every $scrape s during the window"
fi
c0=$(ticks)
w0=$(date +%s)
sleep "$secs"
c1=$(ticks)
w1=$(date +%s)
st=$(status)
[ -n "$scraper" ] && kill "$scraper" 2>/dev/null
scraper=
stage window
if [ "$metrics" != off ] && command -v curl >/dev/null; then
	# the first scrape after a tick: its time includes the render
	echo "scale: /metrics body $(curl -s -o /dev/null -w '%{size_download} bytes in %{time_total} s' \
		"http://$metrics/metrics")"
fi
kernel=$(echo "$last $first" | awk '{ print $1 + $2 - $4 - $5 }')
kernel_unrecl=$(echo "$last $first" | awk '{ print $1 + $3 - $4 - $6 }')
for f in /proc/$pid/fdinfo/*; do
	awk '/^map_type:/ { t = $2 } /^value_size:/ { v = $2 } /^max_entries:/ { m = $2 }
	     /^memlock:/ { l = $2 } /^map_id:/ { id = $2 }
	     END { if (id != "" && l > 65536)
		printf "map %s type %s value %d B max %d: memlock %d kB\n", id, t, v, m, l / 1024 }' "$f"
done | sort -u
if ! kill -0 $pid 2>/dev/null; then
	echo "scale: colod run died:" >&2
	tail -n 20 "$work/log" >&2
	exit 1
fi
kill $pid
wait $pid
rc=$?
pid=
stage stopped
echo "$n $tracked $kernel $st $c0 $c1 $w0 $w1 $kernel_unrecl" | awk '{
	cpu = ($7 - $6) / 100 / ($9 - $8) * 100
	printf "result cgroups %d tracked %d kernel_kb %d rss_kb %d hwm_kb %d total_kb %d cpu_pct %.2f" \
		" kernel_unreclaimable_kb %d total_unreclaimable_kb %d\n",
		$1, $2, $3, $4, $5, $3 + $5, cpu, $10, $10 + $5 }'
[ "$rc" = 0 ] || { echo "scale: colod run exited $rc on SIGTERM" >&2; exit 1; }
[ "$tracked" -ge "$n" ] || { echo "scale: $tracked tracked, fewer than $n" >&2; exit 1; }
if grep -q colod.budget= /proc/cmdline; then
	echo "COLOD-VM-CHECK: PASS scale $n"
fi
exit 0
