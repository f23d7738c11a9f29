#!/bin/sh
# Kernel memory of colod's per-cgroup statistics: the Percpu and Slab lines
# of /proc/meminfo with N cgroups, each of which ran one short task while
# colod's programs were attached (issue 15). POSIX sh: runs on the host and
# in the test VM's busybox.
#
# usage: statsmem.sh [COLOD [N [PARENT]]]
#   COLOD   the colod binary (default: colod on PATH); its programs are
#           loaded with `colod stats`
#           (the same object and maps as `colod run`, without any writes)
#   N       cgroups to create (default 2000)
#   PARENT  where: default /sys/fs/cgroup on pure v2, /sys/fs/cgroup/cpu on v1
#
# Prints one line per stage (kB, and the difference to the stage before):
#   cgroups: after creating the N (empty) cgroups, before colod
#   loaded:  colod's programs loaded and attached
#   ran:     one short task ran in each cgroup
#   stopped: colod gone (its maps freed)
# colod's cost is ran - cgroups. Removes its cgroups on exit.
#
# In the test VM (scripts/vm/run-vm.sh, this file as the initramfs's
# driver) it ends with the COLOD-VM-CHECK and COLOD-VM-RESULT lines the
# host waits for.
set -u

colod=${1:-$(command -v colod)}
n=${2:-2000}
parent=${3:-}
if [ -z "$parent" ]; then
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		parent=/sys/fs/cgroup
	else
		parent=/sys/fs/cgroup/cpu
	fi
fi
base=$parent/colod-statsmem-$$
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	i=0
	while [ $i -lt "$n" ]; do
		rmdir "$base/g$i" 2>/dev/null
		i=$((i + 1))
	done
	rmdir "$base" 2>/dev/null
}
trap cleanup EXIT INT TERM

mem() {
	awk '/^Percpu:/ { p = $2 } /^Slab:/ { s = $2 } END { print p, s }' /proc/meminfo
}

last=
stage() {
	sync
	sleep 2
	cur=$(mem)
	if [ -n "$last" ]; then
		echo "$1 $cur $last" | awk '{ printf "%-8s Percpu %8d kB (%+8d)  Slab %8d kB (%+8d)\n",
			$1, $2, $2 - $4, $3, $3 - $5 }'
	else
		echo "$1 $cur" | awk '{ printf "%-8s Percpu %8d kB             Slab %8d kB\n", $1, $2, $3 }'
	fi
	last=$cur
}

echo "statsmem: $n cgroups under $base, possible CPUs $(cat /sys/devices/system/cpu/possible)," \
     "kernel $(uname -r), colod $colod"
first=$(mem)
mkdir -p "$base" || exit 1
i=0
while [ $i -lt "$n" ]; do
	mkdir "$base/g$i" || exit 1
	i=$((i + 1))
done
last=$first
stage cgroups
"$colod" stats --duration 3600 --pin-dir /nonexistent >/dev/null 2>&1 &
pid=$!
# loaded when its programs show in /proc/PID/fdinfo (bpf-prog fds)
t=0
while [ $t -lt 600 ]; do
	if ls -l /proc/$pid/fd 2>/dev/null | grep -q 'bpf-prog'; then
		break
	fi
	kill -0 $pid 2>/dev/null || { echo "statsmem: colod exited" >&2; exit 1; }
	sleep 0.5
	t=$((t + 1))
done
sleep 3
stage loaded
i=0
while [ $i -lt "$n" ]; do
	sh -c "echo \$\$ > $base/g$i/cgroup.procs && exec true"
	i=$((i + 1))
done
stage ran
# the kernel's own account of each map (fdinfo memlock: since 6.4 the
# memory in use, elements included; before, an estimate from the sizes)
for f in /proc/$pid/fdinfo/*; do
	awk '/^map_type:/ { t = $2 } /^value_size:/ { v = $2 } /^max_entries:/ { m = $2 }
	     /^memlock:/ { l = $2 } /^map_id:/ { id = $2 }
	     END { if (id != "" && l > 65536)
		printf "map %s type %s value %d B max %d: memlock %d kB\n", id, t, v, m, l / 1024 }' "$f"
done | sort -u
kill $pid
wait $pid 2>/dev/null
pid=
stage stopped
if grep -q colod.budget= /proc/cmdline; then
	echo "COLOD-VM-CHECK: PASS statsmem"
	echo "COLOD-VM-RESULT: PASS 1/1"
fi
