#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# BE's slice with 1,000 BE threads running: agent CPU with beSchedSliceUs off and on.
# usage: slice.sh COLOD SLICE_US [SECONDS]: 10 BE cgroups x 100 python
# threads waking every 50 ms, static QoS only (docs/BENCHMARKS.md, "BE's
# slice"); prints the BE threads, those with colod's slice and the agent's
# utime+stime over SECONDS (30) after a 10 s settle. Cleans up on exit.
# v1 cpu and cpuacct hierarchies (this machine's layout).
set -u
COLOD=$1 SLICE=$2 SECS=${3:-30}
B=/sys/fs/cgroup/cpu/colod-slicebench; A=/sys/fs/cgroup/cpuacct/colod-slicebench
W=$(mktemp -d /tmp/colod-slicebench.XXXXXX); PIN=/sys/fs/bpf/colod-slicebench
pids=
cleanup() {
	[ -n "${agent:-}" ] && kill $agent 2>/dev/null && wait $agent 2>/dev/null
	for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null
	$COLOD restore --state-dir $W/state >/dev/null 2>&1
	for i in $(seq 0 9); do rmdir $B/be/g$i $A/be/g$i 2>/dev/null; done
	rmdir $B/be $A/be $B $A 2>/dev/null; rm -rf $W $PIN
}
trap cleanup EXIT
for i in $(seq 0 9); do mkdir -p $B/be/g$i $A/be/g$i; done
for i in $(seq 0 9); do
	sh -c "echo \$\$ > $B/be/g$i/cgroup.procs; echo \$\$ > $A/be/g$i/cgroup.procs; exec python3 -c '
import threading, time
def f():
    while True:
        time.sleep(0.05); sum(range(200))
for _ in range(100): threading.Thread(target=f, daemon=True).start()
time.sleep(1e6)'" &
	pids="$pids $!"
done
mkdir -p $W/config $W/state
echo '{ "clusterStrategy": { "enable": false } }' > $W/config/resource-threshold-config
echo '{ "clusterStrategy": { "beClass": { "cpuQOS": { "enable": true, "schedIdle": 1 } } } }' > $W/config/resource-qos-config
echo "{ \"beSchedSliceUs\": $SLICE, \"classificationRules\": [ { \"match\": \"/colod-slicebench/be*\", \"class\": \"BE\" } ] }" > $W/config/colod-config
$COLOD run --config $W/config --state-dir $W/state --pin-dir $PIN --metrics-addr off > $W/log 2>&1 &
agent=$!
sleep 10
threads=$(cat $B/be/g*/tasks | wc -l)
t0=$(awk '{print $14+$15}' /proc/$agent/stat)
sleep $SECS
t1=$(awk '{print $14+$15}' /proc/$agent/stat)
withslice=0
for t in $(cat $B/be/g*/tasks); do grep -q "se.slice *: *100000000" /proc/$t/sched 2>/dev/null && withslice=$((withslice+1)); done
echo "slicebench: beSchedSliceUs $SLICE, BE threads $threads, with colod's slice $withslice, agent cpu_pct $(echo "$t0 $t1 $SECS $(getconf CLK_TCK)" | awk '{printf "%.2f", 100*($2-$1)/$4/$3}')"
