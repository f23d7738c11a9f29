# colod in the test VM: Koordinator pod semantics on pure cgroup v2 (issue
# 18; docs/CLASSIFICATION.md). Sourced by tests/vm/driver.sh (its helpers:
# check, fail, wait_for, spawn, stop_agent, stat_key).
#
# The real agent runs with --pod-source pointed at the kubelet stand-in
# (/bin/fakekubelet, tests/tools/fakekubelet.c: TLS on 127.0.0.1, the
# service account token) listing the ACK guide's two pods, over cgroups laid
# out and written as kubelet's cgroupfs driver does on v2, below a kubelet
# cgroup root of the check's own (/colod-vm-pods). be-ffmpeg is labelled
# koordinator.sh/qosClass BE and asks for batch-cpu 300 (0.3 CPU: under
# single-threaded TCG a vCPU gets about half of the host thread while the
# other is busy, so a burner may never pass 0.7 CPU to be throttled) and
# batch-memory 256Mi only (BestEffort to kubelet); nginx is labelled LS,
# Guaranteed, 1 CPU and 256Mi, which kubelet wrote on its pod.

PK_ROOT_REL=/colod-vm-pods
PK_ROOT=$CG$PK_ROOT_REL
PK_UID_LS=5f0c3a52-0d9e-4b1c-9a8e-1f2a3b4c5d6e
PK_UID_BE=9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d
PK_BE_POD=$PK_ROOT/kubepods/besteffort/pod$PK_UID_BE
PK_LS_POD=$PK_ROOT/kubepods/pod$PK_UID_LS
PK_DIRS="$PK_ROOT $PK_ROOT/kubepods $PK_ROOT/kubepods/burstable $PK_ROOT/kubepods/besteffort
$PK_BE_POD $PK_BE_POD/ffmpeg $PK_LS_POD $PK_LS_POD/nginx"
PK_WORK=$WORK/pods
PK_KUBELET=
PK_BURN=
PK_AGENT=

# pk_mkdir DIR: runc's way: the parent's controllers enabled, then mkdir
pk_mkdir() {
	echo "+cpu +memory" > $(dirname $1)/cgroup.subtree_control && mkdir $1
}

pk_layout() {
	for d in $PK_DIRS; do
		pk_mkdir $d || return 1
	done
	# kubelet: besteffort and its pods weigh 2 shares (cpu.weight 1); the
	# Guaranteed nginx gets its limits on the pod (1 CPU, 256Mi)
	echo 1 > $PK_ROOT/kubepods/besteffort/cpu.weight &&
	echo 1 > $PK_BE_POD/cpu.weight &&
	echo "100000 100000" > $PK_LS_POD/cpu.max &&
	echo 268435456 > $PK_LS_POD/memory.max
}

pk_pods() {
	ls_pod=$(fakekubelet pod nginx $PK_UID_LS LS - 0 '"cpu":"1","memory":"256Mi"' \
		 '"cpu":"1","memory":"256Mi"' Guaranteed) &&
	be_pod=$(fakekubelet pod be-ffmpeg $PK_UID_BE BE - 0 \
		 '"kubernetes.io/batch-cpu":"300","kubernetes.io/batch-memory":"256Mi"' \
		 '"kubernetes.io/batch-cpu":"300","kubernetes.io/batch-memory":"256Mi"' BestEffort) &&
	fakekubelet set $PK_WORK/kubelet "$ls_pod" "$be_pod"
}

pk_config() {
	mkdir -p $PK_WORK/config $PK_WORK/state
	# no suppress bound: the besteffort tier's cpu.max would be the lower
	# one and throttle instead of the pod's own (v2 takes the lower)
	cat > $PK_WORK/config/colocation-config <<-EOF
	{ "enable": true }
	EOF
	cat > $PK_WORK/config/resource-threshold-config <<-EOF
	{ "clusterStrategy": { "enable": false } }
	EOF
	cat > $PK_WORK/config/resource-qos-config <<-EOF
	{ "clusterStrategy": { "beClass": { "cpuQOS": { "enable": true, "schedIdle": 1 } } } }
	EOF
	cat > $PK_WORK/config/colod-config <<-EOF
	{ "kubeletCgroupRoot": "$PK_ROOT_REL" }
	EOF
}

pk_port_up() {
	[ -s $PK_WORK/kubelet/port ]
}

pk_limits_on() {
	[ "$(cat $PK_BE_POD/cpu.max)" = "30000 100000" ] &&
	[ "$(cat $PK_BE_POD/memory.max)" = 268435456 ]
}

pk_limits_off() {
	[ "$(cat $PK_BE_POD/cpu.max)" = "$PK_CPU0" ] &&
	[ "$(cat $PK_BE_POD/memory.max)" = "$PK_MEM0" ]
}

pk_cleanup() {
	[ -n "$PK_AGENT" ] && kill -KILL $PK_AGENT 2>/dev/null && wait $PK_AGENT 2>/dev/null
	[ -n "$PK_BURN" ] && kill -KILL $PK_BURN 2>/dev/null && wait $PK_BURN 2>/dev/null
	[ -n "$PK_KUBELET" ] && kill $PK_KUBELET 2>/dev/null && wait $PK_KUBELET 2>/dev/null
	PK_AGENT= PK_BURN= PK_KUBELET=
	for d in $PK_LS_POD/nginx $PK_LS_POD $PK_BE_POD/ffmpeg $PK_BE_POD $PK_ROOT/kubepods/besteffort \
		 $PK_ROOT/kubepods/burstable $PK_ROOT/kubepods $PK_ROOT; do
		[ -d $d ] && rmdir $d 2>/dev/null
	done
	return 0
}

c_pod_limits() {
	command -v fakekubelet >/dev/null || fail "no /bin/fakekubelet in the initramfs" || return 1
	# the VM has no network (-nic none) and nothing brings loopback up
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up ||
		fail "cannot bring lo up" || return 1
	mkdir -p $PK_WORK/kubelet
	pk_layout || fail "cannot lay out the kubepods tree" || return 1
	pk_pods || fail "fakekubelet set failed" || return 1
	pk_config
	PK_CPU0=$(cat $PK_BE_POD/cpu.max) PK_MEM0=$(cat $PK_BE_POD/memory.max)
	ls_cpu=$(cat $PK_LS_POD/cpu.max) ls_mem=$(cat $PK_LS_POD/memory.max)
	fakekubelet serve $PK_WORK/kubelet >$PK_WORK/kubelet.log 2>&1 &
	PK_KUBELET=$!
	wait_for 30 pk_port_up || fail "the kubelet stand-in did not start: $(cat $PK_WORK/kubelet.log)" ||
		return 1
	spawn $PK_BE_POD/ffmpeg /bin/burn
	PK_BURN=$!
	BURNERS=${BURNERS% $PK_BURN}
	$COLOD run --config $PK_WORK/config --state-dir $PK_WORK/state --pin-dir $PIN-pods \
		--pod-source https://127.0.0.1:$(cat $PK_WORK/kubelet/port)/pods \
		--pod-source-token $PK_WORK/kubelet/sa/token \
		--pod-source-ca $PK_WORK/kubelet/sa/ca.crt >$PK_WORK/agent.log 2>&1 &
	PK_AGENT=$!
	ok=0
	wait_for 90 pk_limits_on || ok=$?
	cat $PK_WORK/agent.log
	[ $ok = 0 ] || fail "BE pod cpu.max '$(cat $PK_BE_POD/cpu.max)' memory.max" \
		"$(cat $PK_BE_POD/memory.max) after 90 s, not batch-cpu's '30000 100000' and" \
		"batch-memory's 268435456" || return 1
	grep -q "tracking BE cgroup $PK_ROOT_REL/kubepods/besteffort/pod$PK_UID_BE (id [0-9]*, by label)" \
		$PK_WORK/agent.log || fail "the BE pod was not classed BE by its label" || return 1
	grep -q "tracking LS cgroup $PK_ROOT_REL/kubepods/pod$PK_UID_LS (id [0-9]*, by label)" \
		$PK_WORK/agent.log || fail "the LS pod was not classed LS by its label" || return 1
	# the kernel enforces the pod's quota: its burner is throttled
	t0=$(stat_key $PK_BE_POD/cpu.stat nr_throttled)
	sleep 3
	t1=$(stat_key $PK_BE_POD/cpu.stat nr_throttled)
	[ $((t1 - t0)) -gt 0 ] || fail "BE pod not throttled at cpu.max '$(cat $PK_BE_POD/cpu.max)'" ||
		return 1
	pk_limits_on || fail "BE pod limits gone while the agent runs: cpu.max" \
		"'$(cat $PK_BE_POD/cpu.max)' memory.max $(cat $PK_BE_POD/memory.max)" || return 1
	[ "$(cat $PK_LS_POD/cpu.max)" = "$ls_cpu" ] && [ "$(cat $PK_LS_POD/memory.max)" = "$ls_mem" ] ||
		fail "kubelet's nginx limits changed: cpu.max '$(cat $PK_LS_POD/cpu.max)'" \
			"memory.max $(cat $PK_LS_POD/memory.max)" || return 1
	tier=$(cat $PK_ROOT/kubepods/besteffort/cpu.max)
	DETAIL="BE pod cpu.max '30000 100000' memory.max 268435456 by label, nr_throttled"
	DETAIL="$DETAIL +$((t1 - t0)), besteffort cpu.max '$tier'"
	AGENT=$PK_AGENT PK_AGENT=
	stop_agent TERM
	tail -n 5 $PK_WORK/agent.log
	[ "$AGENT_RC" = 0 ] || fail "colod run exited $AGENT_RC on SIGTERM" || return 1
	pk_limits_off || fail "not restored: BE pod cpu.max '$(cat $PK_BE_POD/cpu.max)' (was" \
		"'$PK_CPU0') memory.max $(cat $PK_BE_POD/memory.max) (was $PK_MEM0)" || return 1
	DETAIL="$DETAIL; '$PK_CPU0' and $PK_MEM0 back on SIGTERM"
}
