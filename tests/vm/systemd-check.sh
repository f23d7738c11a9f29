#!/bin/busybox sh
# colod.service under a real systemd (make test-vm-systemd): run by the
# guest's systemd (PID 1, scripts/vm/init-systemd) as colod-vm-check.service.
# The unit and /etc/colod are what `make install PREFIX=/usr` installs,
# unchanged: ProtectSystem=strict with ReadWritePaths, SystemCallFilter,
# RestrictAddressFamilies, the capability set, ExecStopPost=colod restore.
# Checks, one line each for the host (scripts/vm/run-vm.sh):
#   COLOD-VM-CHECK: PASS|FAIL <name> <detail>, then COLOD-VM-RESULT.
# The configuration is the shipped one, with classification rules for the
# check's BE and LS cgroups added to colod-config as an admin would (the
# shipped default has none).
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin:/sbin:/usr/sbin
set -u

CG=/sys/fs/cgroup
BE=$CG/colod-vm/be1
LS=$CG/colod-vm/ls1
NPASS=0
NFAIL=0
DETAIL=

# wait_for SECONDS CMD...: until CMD succeeds (every 0.2 s); its status.
wait_for() {
	n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	"$@"
}

fail() {
	echo "  | $*"
	return 1
}

check() {
	DETAIL=
	"$2" > /tmp/check.out 2>&1	# in this shell: DETAIL comes back
	rc=$?
	out=$(cat /tmp/check.out)
	if [ $rc = 0 ]; then
		NPASS=$((NPASS + 1))
		echo "COLOD-VM-CHECK: PASS $1 $DETAIL"
	else
		NFAIL=$((NFAIL + 1))
		echo "COLOD-VM-CHECK: FAIL $1 $DETAIL"
		echo "$out" | sed 's/^/  | /'
	fi
}

is_active() {
	[ "$(systemctl is-active colod.service)" = "$1" ]
}

main_pid() {
	systemctl show -p MainPID --value colod.service
}

# The knobs colod writes on BE, as they read now.
knobs() {
	echo "cpu.idle=$(cat $BE/cpu.idle) cpu.max=$(cat $BE/cpu.max | tr ' ' /)" \
	     "cpu.weight=$(cat $BE/cpu.weight)"
}

be_throttled() {
	[ "$(cat $BE/cpu.idle)" = 1 ]
}

originals_back() {
	[ "$(knobs)" = "$ORIG" ]
}

c_pid1() {
	DETAIL="PID 1 is $(cat /proc/1/comm), $(systemctl --version | head -n 1)"
	[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
}

# What systemd says about the unit, for a failure's output.
why() {
	systemctl status --no-pager -l colod.service 2>&1 | tail -n 30
	systemctl list-jobs --no-pager 2>&1 | tail -n 10
}

c_start() {
	systemctl start --no-block colod.service || fail "systemctl start colod failed"
	wait_for 120 is_active active ||
		fail "colod.service is $(systemctl is-active colod.service); $(why)" || return 1
	wait_for 120 be_throttled
	ok=$?
	DETAIL="active, pid $(main_pid); BE $(knobs) (was $ORIG)"
	[ $ok = 0 ] || fail "BE not throttled under the unit after 120 s: $(knobs)"
}

# What the sandbox made of the service, read from outside and from inside
# its mount namespace.
c_sandbox() {
	pid=$(main_pid)
	st=/proc/$pid/status
	[ "$pid" -gt 0 ] 2>/dev/null || fail "no main pid" || return 1
	grep -q '^NoNewPrivs:[[:space:]]*1' $st || fail "NoNewPrivs: $(grep NoNewPrivs $st)" || return 1
	# SystemCallFilter (and RestrictAddressFamilies): seccomp filter mode
	grep -q '^Seccomp:[[:space:]]*2' $st || fail "$(grep Seccomp $st)" || return 1
	# CAP_KILL 5, CAP_SYS_RESOURCE 24, CAP_PERFMON 38, CAP_BPF 39
	bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' $st)
	[ "$bnd" = 000000c001000020 ] || fail "CapBnd $bnd, not CAP_KILL CAP_SYS_RESOURCE CAP_PERFMON CAP_BPF" || return 1
	# ProtectSystem=strict and ReadOnlyPaths=/sys: read-only in its mount
	# namespace; ReadWritePaths: cgroupfs and bpffs writable there
	mi=/proc/$pid/mountinfo
	for m in "/ ro" "/sys ro" "/sys/fs/cgroup rw" "/sys/fs/bpf rw"; do
		grep -q "^[0-9]* [0-9]* [0-9:]* / ${m% *} ${m#* }," $mi ||
			fail "not mounted ${m#* } in its namespace: ${m% *}: $(grep " ${m% *} " $mi)" || return 1
	done
	for d in /usr /etc /; do
		if nsenter -t $pid -m sh -c "touch $d/colod-vm-probe" 2>/dev/null; then
			fail "$d is writable in the unit's namespace"
			return 1
		fi
	done
	nsenter -t $pid -m sh -c 'touch /var/lib/colod/probe && rm /var/lib/colod/probe' ||
		fail "StateDirectory /var/lib/colod is not writable" || return 1
	ls /sys/fs/bpf/colod >/dev/null 2>&1 || fail "no pins in /sys/fs/bpf/colod" || return 1
	# RestrictAddressFamilies allows AF_INET: the metrics listener answers
	code=$(wget -q -O - http://127.0.0.1:9317/readyz 2>&1) ||
		fail "/readyz on 127.0.0.1:9317: $code" || return 1
	DETAIL="NoNewPrivs 1, Seccomp 2, CapBnd $bnd; in its namespace / and /sys read-only, cgroupfs, bpffs (pins), /var/lib/colod writable; /readyz answers"
}

# SIGKILL: colod's own stop path does not run; ExecStopPost=colod restore
# must put the originals back (before Restart=on-failure brings it back).
c_kill_restore() {
	pid=$(main_pid)
	systemctl kill --signal=SIGKILL colod.service || fail "systemctl kill" || return 1
	wait_for 20 originals_back
	ok=$?
	seen=$(knobs)
	[ $ok = 0 ] || fail "after SIGKILL of $pid: $seen, originals $ORIG" || return 1
	wait_for 120 is_active active || fail "not restarted: $(systemctl is-active colod.service)" || return 1
	wait_for 120 be_throttled || fail "restarted colod did not throttle BE again: $(knobs)" || return 1
	DETAIL="SIGKILL of $pid: originals back by ExecStopPost ($seen); restarted as $(main_pid), BE throttled again"
}

c_stop() {
	systemctl stop colod.service
	wait_for 60 is_active inactive || fail "still $(systemctl is-active colod.service)" || return 1
	originals_back || fail "after stop: $(knobs), originals $ORIG" || return 1
	DETAIL="inactive; BE $(knobs), as before"
}

echo "colod-vm: kernel $(uname -r), $(nproc) CPUs; systemd-check"
ip link set lo up
echo "+cpu +cpuset +memory" > $CG/cgroup.subtree_control
mkdir -p $CG/colod-vm
echo "+cpu +cpuset +memory" > $CG/colod-vm/cgroup.subtree_control
mkdir -p $BE $LS
ORIG=$(knobs)
cat > /etc/colod/colod-config <<EOF
{ "lsLatencyTargetUs": 1000, "breachMinIntervalMs": 5,
  "classificationRules": [
    { "match": "/colod-vm/ls*", "class": "LS", "cpuRequestMilli": 1000,
      "memoryRequestBytes": 268435456 },
    { "match": "/colod-vm/be*", "class": "BE" } ] }
EOF

check systemd_is_pid1 c_pid1
check unit_starts_and_throttles_be c_start
check unit_sandbox_holds c_sandbox
check sigkill_then_execstoppost_restores c_kill_restore
check stop_restores c_stop

if [ $NFAIL = 0 ]; then
	echo "COLOD-VM-RESULT: PASS $NPASS/$NPASS"
else
	echo "COLOD-VM-RESULT: FAIL $NFAIL/$((NPASS + NFAIL)) failed"
fi
systemctl stop colod.service 2>/dev/null
rmdir $BE $LS $CG/colod-vm 2>/dev/null
sync
poweroff -f
