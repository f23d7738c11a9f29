#!/bin/sh
# colod's test driver inside the qemu VM (busybox sh), run by scripts/vm/init
# on a Debian kernel (5.10, 6.1 or 6.12: colod.kernel= on the command line)
# with pure cgroup v2 (cpu, cpuset, memory enabled). What the kernel lacks
# (task storage for tracing and cmpxchg before 5.12, cpu.idle before 5.15)
# is expected absent, and its fallback is what is checked.
#
# Every check prints one line the host parses (scripts/vm/run-vm.sh):
#   COLOD-VM-CHECK: PASS|FAIL <name> <detail>
# and at the end:
#   COLOD-VM-RESULT: PASS n/n   or   COLOD-VM-RESULT: FAIL k/n failed
# A failing check also prints its captured output, prefixed "  | ".
set -u

COLOD=${COLOD:-/bin/colod}
CG=/sys/fs/cgroup
LS_REL=/colod-vm-ls
BE_REL=/colod-vm-be
IDLE_REL=/colod-vm-idle
LS=$CG$LS_REL
BE=$CG$BE_REL
IDLE=$CG$IDLE_REL
WORK=/tmp/colod-vm
CFG=$WORK/config
STATE=$WORK/state
PIN=/sys/fs/bpf/colod-vm
# Files the agent may write, whose originals must come back.
KNOBS="cpu.max cpu.idle cpu.weight memory.high memory.low memory.min"

# Give up on what is left before the host's hard timeout kills the VM, so
# that the result line still comes back (colod.budget= on the command line).
BUDGET=$(sed -n 's/.*colod\.budget=\([0-9]*\).*/\1/p' /proc/cmdline)
BUDGET=${BUDGET:-400}
KEXPECT=$(sed -n 's/.*colod\.kernel=\([0-9.]*\).*/\1/p' /proc/cmdline)
KEXPECT=${KEXPECT:-6.1}
NPASS=0
NFAIL=0
DETAIL=
BURNERS=
KPIDS=
AGENT=

mkdir -p $WORK $CFG $STATE

# ---- helpers ---------------------------------------------------------------

# kver_ge MAJOR.MINOR: the running kernel is that version or newer
kver_ge() {
	uname -r | awk -v want="$1" '{
		split($1, h, "[.-]"); split(want, w, ".")
		exit !(h[1] > w[1] || (h[1] == w[1] && h[2] >= w[2])) }'
}

# What this kernel has, by version (the features check compares colod's
# probes against these): task storage from tracing programs and BPF_CMPXCHG
# came in 5.12, cpu.idle in 5.15.
if kver_ge 5.12; then HAS_TS=true; else HAS_TS=false; fi
if kver_ge 5.15; then HAS_IDLE=true; else HAS_IDLE=false; fi

# Only these checks when colod.checks=a,b is on the command line (make
# test-vm VM_CHECKS=a,b); the scenario's set-up between them still runs.
ONLY=$(sed -n 's/.*colod\.checks=\([a-z_0-9,]*\).*/\1/p' /proc/cmdline)

# check NAME FUNCTION: run FUNCTION in this shell, output captured, then report.
check() {
	name=$1
	shift
	DETAIL=
	case ",${ONLY:-$name}," in
	*",$name,"*) ;;
	*) echo "colod-vm: $name not selected (colod.checks=$ONLY)"; return ;;
	esac
	if out_of_time; then
		NFAIL=$((NFAIL + 1))
		echo "COLOD-VM-CHECK: FAIL $name not run: ${BUDGET}s budget spent"
		return
	fi
	CHECK_T0=$(now_ms)
	echo "colod-vm: running $name"
	if "$@" >$WORK/$name.out 2>&1; then
		NPASS=$((NPASS + 1))
		echo "COLOD-VM-CHECK: PASS $name [$(secs_since $CHECK_T0)s] $DETAIL"
	else
		NFAIL=$((NFAIL + 1))
		echo "COLOD-VM-CHECK: FAIL $name [$(secs_since $CHECK_T0)s] $DETAIL"
		tail -n 40 $WORK/$name.out | sed 's/^/  | /'
	fi
}

secs_since() {
	awk -v t=$1 '{ printf "%.1f\n", $1 - t / 1000 }' /proc/uptime
}

out_of_time() {
	[ "$(awk '{ printf "%d\n", $1 }' /proc/uptime)" -ge "$BUDGET" ]
}

# fail MESSAGE: record why a check fails (the last reason wins) and return 1.
fail() {
	DETAIL="$*"
	echo "fail: $*"
	return 1
}

now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# stat_key FILE KEY: the value of "KEY value" in a flat keyed file.
stat_key() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}

# wait_for SECONDS COMMAND...: poll every second until COMMAND succeeds.
wait_for() {
	n=$1
	shift
	while [ $n -gt 0 ] && ! out_of_time; do
		"$@" && return 0
		sleep 1
		n=$((n - 1))
	done
	return 1
}

# await_line TEXT FILE PID: until FILE has TEXT or PID is gone
await_line() {
	while ! grep -q "$1" "$2" && kill -0 $3 2>/dev/null; do
		sleep 0.05
	done
}

# within A B REL ABS: |A - B| <= REL * B + ABS (floats)
within() {
	awk -v a="$1" -v b="$2" -v r="$3" -v s="$4" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= r * b + s) }'
}

# spawn CGROUP_DIR PROG ARGS...: start a load inside a cgroup
spawn() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$@" &
	BURNERS="$BURNERS $!"
}

stop_burners() {
	for p in $BURNERS; do
		kill -KILL $p 2>/dev/null
	done
	for p in $BURNERS; do
		wait $p 2>/dev/null
	done
	BURNERS=
}

# save_knobs TAG: remember every knob of LS and BE as they are now
save_knobs() {
	for d in LS BE; do
		eval dir=\$$d
		for k in $KNOBS; do
			[ -e $dir/$k ] && cat $dir/$k > $WORK/orig.$1.$d.$k
		done
	done
}

# same_knobs TAG: every knob is back to what save_knobs TAG saw
same_knobs() {
	bad=
	for d in LS BE; do
		eval dir=\$$d
		for k in $KNOBS; do
			[ -e $WORK/orig.$1.$d.$k ] || continue
			if ! cmp -s $dir/$k $WORK/orig.$1.$d.$k; then
				echo "$d $k: now '$(cat $dir/$k)', was '$(cat $WORK/orig.$1.$d.$k)'"
				bad="$bad $d/$k"
			fi
		done
	done
	[ -z "$bad" ] || fail "not restored:$bad"
}

quota_of() {
	awk '{ print $1 }' $1/cpu.max
}

# BE throttled: cpu.idle=1 where the kernel has it, else the lowest weight
be_throttled() {
	if [ $HAS_IDLE = true ]; then
		[ "$(cat $BE/cpu.idle)" = 1 ] || return 1
	else
		[ "$(cat $BE/cpu.weight)" = 1 ] || return 1
	fi
	[ "$(quota_of $BE)" != max ]
}

mem_high_written() {
	[ "$(cat $BE/memory.high)" != max ]
}

agent_alive() {
	[ -n "$AGENT" ] && kill -0 $AGENT 2>/dev/null
}

# proc_state PID: R, S, D, Z, ... or "gone"
proc_state() {
	if [ -r /proc/$1/stat ]; then
		sed 's/.*) \([A-Z]\).*/\1/' /proc/$1/stat
	else
		echo gone
	fi
}

agent_exited() {
	case "$(proc_state $AGENT)" in
	Z|gone) return 0 ;;
	*) return 1 ;;
	esac
}

# stop_agent SIGNAL: signal the agent and wait (bounded) for it to go; a
# shell `wait` on a process that does not exit would hang the whole VM.
stop_agent() {
	[ -n "$AGENT" ] || return 0
	kill -$1 $AGENT 2>/dev/null
	AGENT_RC=hung
	if wait_for 30 agent_exited; then
		wait $AGENT
		AGENT_RC=$?
	else
		echo "agent $AGENT did not exit 30 s after SIG$1: state $(proc_state $AGENT)," \
		     "wchan $(cat /proc/$AGENT/wchan 2>/dev/null)"
		cat /proc/$AGENT/stack 2>/dev/null
		kill -KILL $AGENT 2>/dev/null
	fi
	AGENT=
	return 0
}

start_agent() {
	$COLOD run --config $CFG --state-dir $STATE --pin-dir $PIN >>$WORK/agent.log 2>&1 &
	AGENT=$!
}

cleanup() {
	[ -n "$AGENT" ] && kill -KILL $AGENT 2>/dev/null
	stop_burners
	k_cleanup
	pk_cleanup
	echo $$ > $CG/cgroup.procs
	for d in $LS $BE $IDLE $CG/colod-vm-driver; do
		[ -d $d ] && rmdir $d 2>/dev/null
	done
}

# ---- checks ----------------------------------------------------------------

c_kernel() {
	r=$(uname -r)
	DETAIL="$r"
	case "$r" in
	"$KEXPECT".*) return 0 ;;
	*) fail "booted $r, expected $KEXPECT" ;;
	esac
}

c_cgroup_v2_pure() {
	cat /proc/mounts
	grep -q '^cgroup2 /sys/fs/cgroup cgroup2 ' /proc/mounts || fail "no cgroup2 at $CG" || return 1
	! awk '$3 == "cgroup"' /proc/mounts | grep -q . || fail "a v1 hierarchy is mounted" || return 1
	sc=$(cat $CG/cgroup.subtree_control)
	DETAIL="subtree_control: $sc"
	for c in cpu cpuset memory; do
		echo " $sc " | grep -q " $c " || fail "$c not in subtree_control ($sc)" || return 1
	done
}

# jq_true FILE FILTER: the filter yields true
jq_true() {
	[ "$(jq -r "$2" "$1")" = true ]
}

c_features() {
	timeout -s KILL 60 $COLOD features > $WORK/features.txt || fail "colod features exited $?" ||
		return 1
	cat $WORK/features.txt
	timeout -s KILL 60 $COLOD features --json > $WORK/features.json ||
		fail "colod features --json exited $?" || return 1
	cat $WORK/features.json
	jq -e . $WORK/features.json >/dev/null || fail "features --json is not JSON" || return 1
	[ "$(jq -r .cgroup_mode $WORK/features.json)" = v2 ] || fail "cgroup_mode is not v2" || return 1
	for f in btf tp_btf ringbuf cgroup_v2 cgroup_cpu cgroup_cpuset cgroup_memory; do
		jq_true $WORK/features.json ".features.$f.present" ||
			fail "feature $f not present on $(uname -r)" || return 1
	done
	for p in bpf use_dfl_cgroup cpu_throttle cpu_v2_knobs memory_high; do
		jq_true $WORK/features.json ".plan.$p" || fail "plan.$p is not true" || return 1
	done
	# present exactly where the kernel has them; a fallback named where not
	missing=
	for fp in task_storage:task_storage:$HAS_TS bpf_atomics:bpf_atomics:$HAS_TS \
		  cpu_idle:cpu_idle:$HAS_IDLE; do
		f=${fp%%:*} p=${fp#*:} want=${fp##*:}
		p=${p%%:*}
		got=$(jq -r ".features.$f.present" $WORK/features.json)
		[ "$got" = $want ] || fail "feature $f present=$got on $(uname -r), expected $want" ||
			return 1
		[ "$(jq -r ".plan.$p" $WORK/features.json)" = $want ] ||
			fail "plan.$p is not $want" || return 1
		if [ $want = false ]; then
			jq -r ".features.$f.without" $WORK/features.json | grep -q . ||
				fail "feature $f missing without a fallback" || return 1
			missing="$missing $f"
		fi
	done
	DETAIL="missing:${missing:- none}; resctrl=$(jq -r .features.resctrl.present $WORK/features.json)"
}

# The agent says at start, one line each, the fallbacks `colod features`
# names, word for word (both come from the loader's and probes' choices).
c_agent_says_fallbacks() {
	n=0
	for f in $(jq -r '.features | to_entries[] | select(.value.present != true) | .key' \
		   $WORK/features.json); do
		w=$(jq -r ".features.$f.without" $WORK/features.json)
		line=$(grep -F "kernel feature $f: " $WORK/agent.log | head -n 1)
		echo "$f: $line"
		[ -n "$line" ] || fail "the agent did not say that $f is missing" || return 1
		case "$line" in
		*"without it: $w") ;;
		*) fail "agent on $f: '$line', colod features: '$w'" || return 1 ;;
		esac
		n=$((n + 1))
	done
	DETAIL="$n missing feature(s), each logged with the fallback colod features names"
}

# CPU time read from the kernel (cpu.stat) and from BPF (bpf_ktime_get_ns)
# must run at wall-clock speed; under TCG a miscalibrated TSC breaks that.
c_clock() {
	dmesg | grep -i -e 'tsc' -e 'clocksource' | tail -n 8
	echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	mkdir -p $CG/colod-vm-clock
	spawn $CG/colod-vm-clock /bin/burn
	sleep 1
	u0=$(stat_key $CG/colod-vm-clock/cpu.stat usage_usec)
	m0=$(now_ms)
	sleep 3
	u1=$(stat_key $CG/colod-vm-clock/cpu.stat usage_usec)
	m1=$(now_ms)
	stop_burners
	rmdir $CG/colod-vm-clock
	cores=$(awk -v u=$((u1 - u0)) -v t=$((m1 - m0)) 'BEGIN { printf "%.3f", u / (t * 1000) }')
	DETAIL="one spinning task used $cores cores of wall time;"
	DETAIL="$DETAIL clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	within $cores 1 0.15 0 || fail "$DETAIL: expected 1 (guest clocks disagree)"
}

# Without the cpu controller colod must say so and plan no CPU lever.
c_features_fallback() {
	echo "-cpu" > $CG/cgroup.subtree_control || fail "cannot disable cpu" || return 1
	timeout -s KILL 60 $COLOD features --json > $WORK/features-nocpu.json
	rc=$?
	timeout -s KILL 60 $COLOD features > $WORK/features-nocpu.txt
	echo "+cpu" > $CG/cgroup.subtree_control || fail "cannot re-enable cpu" || return 1
	cat $WORK/features-nocpu.txt
	[ $rc = 0 ] || fail "colod features --json exited $rc" || return 1
	[ "$(jq -r .features.cgroup_cpu.present $WORK/features-nocpu.json)" = false ] ||
		fail "cgroup_cpu still present with cpu disabled" || return 1
	jq -r .features.cgroup_cpu.detail $WORK/features-nocpu.json | grep -q 'echo +cpu' ||
		fail "no hint how to enable cpu" || return 1
	[ "$(jq -r .plan.cpu_throttle $WORK/features-nocpu.json)" = false ] ||
		fail "plan still throttles CPU" || return 1
	[ "$(jq -r .plan.cpu_idle $WORK/features-nocpu.json)" = false ] ||
		fail "plan still uses cpu.idle" || return 1
	grep -q 'without it' $WORK/features-nocpu.txt || fail "text output has no fallback" || return 1
	DETAIL="cpu disabled -> $(jq -r .features.cgroup_cpu.without $WORK/features-nocpu.json)"
}

# The kernel itself enforces the knobs colod writes (before colod touches them).
c_kernel_enforces() {
	save_knobs kernel
	echo "20000 100000" > $BE/cpu.max || fail "write cpu.max" || return 1
	if [ $HAS_IDLE = true ]; then
		echo 1 > $BE/cpu.idle || fail "write cpu.idle" || return 1
	else
		[ ! -e $BE/cpu.idle ] || fail "cpu.idle exists before 5.15" || return 1
	fi
	echo 268435456 > $BE/memory.high || fail "write memory.high" || return 1
	# measure only once the quota is in force (forks are slow under TCG)
	sleep 1
	t0=$(stat_key $BE/cpu.stat nr_throttled)
	u0=$(stat_key $BE/cpu.stat usage_usec)
	m0=$(now_ms)
	sleep 3
	t1=$(stat_key $BE/cpu.stat nr_throttled)
	u1=$(stat_key $BE/cpu.stat usage_usec)
	m1=$(now_ms)
	idle=$(cat $BE/cpu.idle 2>/dev/null || echo none)
	high=$(cat $BE/memory.high)
	for k in cpu.max cpu.idle memory.high; do
		[ -e $WORK/orig.kernel.BE.$k ] && cat $WORK/orig.kernel.BE.$k > $BE/$k
	done
	cores=$(awk -v u=$((u1 - u0)) -v t=$((m1 - m0)) 'BEGIN { printf "%.3f", u / (t * 1000) }')
	DETAIL="quota 0.2 core: used $cores cores, nr_throttled +$((t1 - t0))"
	[ $((t1 - t0)) -gt 0 ] || fail "$DETAIL: never throttled" || return 1
	awk -v c=$cores 'BEGIN { exit !(c <= 0.3) }' || fail "$DETAIL: quota not enforced" || return 1
	[ "$idle" = 1 ] || [ $HAS_IDLE = false ] || fail "cpu.idle reads $idle" || return 1
	[ "$high" = 268435456 ] || fail "memory.high reads $high" || return 1
	same_knobs kernel
}

# colod stats: BPF loads with CO-RE against 6.1, attributes CPU and latency.
c_stats() {
	# CPU is charged at switch-out and at each tick: 8 s keeps the error
	# of the edges small. Our window is colod's: from 'measuring for' to
	# 'measured' on its stderr. (The BPF load before it and the detach
	# after it hold up the other vCPU too under single-threaded TCG,
	# whatever the weights: a window around them sees LS at half its rate.)
	mkdir -p $CG/colod-vm-tool
	echo 1 > $CG/colod-vm-tool/cpu.weight
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' $CG/colod-vm-tool \
		timeout -s KILL 180 $COLOD stats --json --duration 8 --cgroup $LS_REL --cgroup $BE_REL \
		--cgroup $IDLE_REL --pin-dir $PIN > $WORK/stats.json 2> $WORK/stats.err &
	sp=$!
	await_line 'measuring for' $WORK/stats.err $sp
	ul0=$(stat_key $LS/cpu.stat usage_usec)
	ub0=$(stat_key $BE/cpu.stat usage_usec)
	m0=$(now_ms)
	await_line 'measured ' $WORK/stats.err $sp
	ul1=$(stat_key $LS/cpu.stat usage_usec)
	ub1=$(stat_key $BE/cpu.stat usage_usec)
	m1=$(now_ms)
	wait $sp
	rc=$?
	rmdir $CG/colod-vm-tool
	cat $WORK/stats.err $WORK/stats.json
	[ $rc = 0 ] || fail "colod stats exited $rc" || return 1
	jq -e . $WORK/stats.json >/dev/null || fail "stats output is not JSON" || return 1
	ms=$((m1 - m0))
	kl=$(awk -v u=$((ul1 - ul0)) -v t=$ms 'BEGIN { printf "%.3f", u / (t * 1000) }')
	kb=$(awk -v u=$((ub1 - ub0)) -v t=$ms 'BEGIN { printf "%.3f", u / (t * 1000) }')
	sel='.cgroups[] | select(.path == $p)'
	cl=$(jq -r --arg p $LS_REL "$sel | .cpu_cores" $WORK/stats.json)
	cb=$(jq -r --arg p $BE_REL "$sel | .cpu_cores" $WORK/stats.json)
	nl=$(jq -r --arg p $LS_REL "$sel | .runq_us.count" $WORK/stats.json)
	nb=$(jq -r --arg p $BE_REL "$sel | .runq_us.count" $WORK/stats.json)
	p99=$(jq -r --arg p $LS_REL "$sel | .runq_us.p99" $WORK/stats.json)
	ci=$(jq -r --arg p $IDLE_REL "$sel | .cpu_ns" $WORK/stats.json)
	ni=$(jq -r --arg p $IDLE_REL "$sel | .runq_us.count" $WORK/stats.json)
	DETAIL="LS $cl cores (kernel $kl) $nl samples p99 ${p99}us; BE $cb cores (kernel $kb) $nb samples"
	echo "$DETAIL; idle cpu_ns $ci samples $ni"
	for v in "$cl" "$cb" "$nl" "$nb" "$ci" "$ni"; do
		case "$v" in
		''|null) fail "a cgroup is missing from the output" || return 1 ;;
		esac
	done
	# LS wakes 1000/s: even slowed down by TCG there are hundreds of samples
	[ "$nl" -ge 200 ] || fail "$DETAIL: too few LS latency samples" || return 1
	[ "$nb" -gt 0 ] || fail "$DETAIL: no BE run-queue samples" || return 1
	[ "$ci" = 0 ] && [ "$ni" = 0 ] || fail "$DETAIL: an empty cgroup got CPU or samples" || return 1
	# Same load, nearly the same window (ours ends after colod's output): rates agree.
	within "$cl" "$kl" 0.25 0.05 || fail "$DETAIL: LS CPU off the kernel's accounting" || return 1
	within "$cb" "$kb" 0.25 0.05 || fail "$DETAIL: BE CPU off the kernel's accounting" || return 1
}

write_config() {
	cat > $CFG/colocation-config <<-EOF
	{ "enable": true }
	EOF
	cat > $CFG/resource-threshold-config <<-EOF
	{ "clusterStrategy": { "enable": true, "cpuSuppressThresholdPercent": 65,
	  "cpuSuppressPolicy": "cfsQuota" } }
	EOF
	cat > $CFG/resource-qos-config <<-EOF
	{ "clusterStrategy": {
	    "policies": { "cpuPolicy": "coreSched" },
	    "lsClass": { "cpuQOS": { "enable": true } },
	    "beClass": { "cpuQOS": { "enable": true, "schedIdle": 1 },
	                 "memoryQOS": { "enable": true, "throttlingPercent": 80 } } } }
	EOF
	cat > $CFG/colod-config <<-EOF
	{ "classificationRules": [
	    { "match": "$LS_REL", "class": "LS", "cpuRequestMilli": 1500,
	      "memoryRequestBytes": 268435456 },
	    { "match": "$BE_REL", "class": "BE" } ] }
	EOF
}

# colod run throttles the BE group through cpu.max and cpu.idle, writes its
# memory.high, and the kernel enforces it.
c_agent_throttles() {
	save_knobs agent
	start_agent
	wait_for 90 be_throttled
	ok=$?
	cat $WORK/agent.log
	agent_alive || fail "colod run exited" || return 1
	[ $ok = 0 ] || fail "BE not throttled after 90 s: cpu.max '$(cat $BE/cpu.max)'" \
		"cpu.idle $(cat $BE/cpu.idle)" || return 1
	wait_for 30 mem_high_written || fail "BE memory.high never written" || return 1
	t0=$(stat_key $BE/cpu.stat nr_throttled)
	sleep 3
	t1=$(stat_key $BE/cpu.stat nr_throttled)
	DETAIL="BE cpu.max '$(cat $BE/cpu.max)' cpu.idle $(cat $BE/cpu.idle 2>/dev/null || echo none)"
	DETAIL="$DETAIL cpu.weight $(cat $BE/cpu.weight)"
	DETAIL="$DETAIL memory.high $(cat $BE/memory.high) nr_throttled +$((t1 - t0))"
	[ $((t1 - t0)) -gt 0 ] || fail "$DETAIL: kernel did not throttle" || return 1
	agent_alive || fail "colod run exited" || return 1
}

c_agent_restores() {
	[ -n "$AGENT" ] || fail "no agent running" || return 1
	stop_agent TERM
	tail -n 20 $WORK/agent.log
	[ "$AGENT_RC" = 0 ] || fail "colod run exited $AGENT_RC on SIGTERM" || return 1
	same_knobs agent || return 1
	DETAIL="every original back after SIGTERM"
}

c_restore_after_kill() {
	start_agent
	wait_for 90 be_throttled || fail "BE not throttled by the second agent" || return 1
	stop_agent KILL
	[ "$AGENT_RC" != hung ] || fail "the agent survived SIGKILL" || return 1
	be_throttled || fail "throttle vanished before restore" || return 1
	timeout -s KILL 60 $COLOD restore --state-dir $STATE || fail "colod restore exited $?" || return 1
	same_knobs agent || return 1
	DETAIL="every original back after kill -9 + colod restore"
}

# ---- kubelet next to colod (issue 13; docs/KUBELET.md) ----------------------
#
# This shell plays kubelet (cgroupfs driver) and runc on cgroup v2 while the
# agent runs, with their writes; every one must succeed. cpu.idle=1 on a
# cgroup makes the kernel refuse cpu.weight writes to it (EINVAL).

KP=$CG/kubepods
KBU=$KP/burstable
KBE=$KP/besteffort
KBE_POD=$KBE/pod0b5e7a1c-3f2d-4e6a-9c1b-00000000be01
KBE_CTR=$KBE_POD/b1e0000000000000000000000000000000000000000000000000000000000001
KLS_POD=$KBU/pod7d9e2f40-1a3b-4c5d-8e6f-0000000015a1
KLS_CTR=$KLS_POD/15000000000000000000000000000000000000000000000000000000000000a1

# kw WHO FILE VALUE: one write as kubelet (os.WriteFile) or runc make it.
kw() {
	echo -n "$3" > "$2" 2>$WORK/kw.err ||
		fail "$1: write $3 > ${2#$CG/} failed: $(cat $WORK/kw.err)"
}

# kmkdir WHO DIR: runc's fs2 Apply: the controllers enabled in the parent's
# cgroup.subtree_control, then mkdir.
kmkdir() {
	kw "$1" $(dirname $2)/cgroup.subtree_control "$KCTRLS" || return 1
	mkdir $2 2>$WORK/kw.err || fail "$1: mkdir ${2#$CG/}: $(cat $WORK/kw.err)"
}

# kubelet's getCPUWeight: shares [2, 262144] -> weight [1, 10000], linear
k_weight() {
	awk -v s=$1 'BEGIN { if (s >= 262144) print 10000; else printf "%d\n", 1 + int((s - 2) * 9999 / 262142) }'
}

# runc >= 1.3.2 (opencontainers/cgroups ConvertCPUSharesToCgroupV2Value):
# ceil(10^((l^2 + 125 l) / 612 - 7/34)), l = log2(shares), for the shares
# used here (busybox awk has no log/exp).
runc_weight() {
	case $1 in
	2) echo 1 ;;
	512) echo 59 ;;
	1024) echo 100 ;;
	*) echo "runc_weight: no value for $1 shares" >&2; return 1 ;;
	esac
}

milli_to_shares() {
	awk -v m=$1 'BEGIN { s = int(m * 1024 / 1000); print (s < 2) ? 2 : s }'
}

# UpdateCgroups: besteffort weight 1, burstable from the Burstable requests,
# QOSReserved memory=100%: memory.max of both tiers.
k_update_qos() {
	kw "$1" $KBE/cpu.weight 1 &&
	kw "$1" $KBU/cpu.weight $(k_weight $(milli_to_shares $K_BU_REQ)) &&
	kw "$1" $KBU/memory.max $K_MEM &&
	kw "$1" $KBE/memory.max $((K_MEM - K_BU_MEM))
}

# Start (or restart): kubepods (node allocatable), the tiers, UpdateCgroups.
k_start() {
	if [ "${2:-}" = new ]; then
		kmkdir "$1" $KP && kmkdir "$1" $KBU && kmkdir "$1" $KBE || return 1
	fi
	kw "$1" $KP/cpu.weight $(k_weight $(milli_to_shares $(($(nproc) * 1000)))) &&
	kw "$1" $KP/memory.max $K_MEM &&
	kw "$1" $KBE/cpu.weight 1 &&
	k_update_qos "$1"
}

# ls_writes WHO DIR WEIGHT: pod level (SetCgroupConfig / Create) or runc's
ls_writes() {
	kw "$1" $2/cpu.weight $3 &&
	kw "$1" $2/cpu.max "$((K_LS_LIM * 100)) 100000" &&
	kw "$1" $2/memory.max $K_LS_MEM
}

k_pod_idle() {
	[ "$(cat $KBE_POD/cpu.idle)" = 1 ]
}

k_agent_up() {
	[ "$(grep -c "running:" $WORK/agent.log)" -gt "${K_UP0:-0}" ]
}

k_pod_gone() {
	for p in $KPIDS; do
		kill -KILL $p 2>/dev/null
		wait $p 2>/dev/null
	done
	KPIDS=
}

k_cleanup() {
	k_pod_gone
	for d in $KBE_CTR $KLS_CTR $KBE_POD $KLS_POD $KBE $KBU $KP; do
		[ -d $d ] && rmdir $d 2>/dev/null
	done
}

c_kubelet_writes() {
	K_MEM=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	K_BU_REQ=0 K_BU_MEM=0 K_LS_REQ=500 K_LS_LIM=1000 K_LS_MEM=268435456
	KCTRLS=
	for c in cpu cpuset memory pids hugetlb; do
		grep -qw $c $CG/cgroup.controllers && KCTRLS="$KCTRLS +$c"
	done
	KCTRLS=${KCTRLS# }
	KPIDS=
	k_start "kubelet start" new || return 1
	# agent.log is shared with the earlier checks: wait for this agent's line
	K_UP0=$(grep -c "running:" $WORK/agent.log 2>/dev/null)
	start_agent
	wait_for 90 k_agent_up || fail "agent not up after 90 s" || return 1

	# BE pod: UpdateQOSCgroups, the pod cgroup (cpu.weight of 2 shares), then
	# runc: cpu.weight 1, cpu.max "max 100000" (CRI CpuPeriod, no quota)
	k_update_qos "kubelet pod create (BE)" || return 1
	kmkdir "kubelet pod create (BE)" $KBE_POD && kw "kubelet pod create (BE)" $KBE_POD/cpu.weight 1 &&
	{ ! grep -qw pids $CG/cgroup.controllers || kw "kubelet pod create (BE)" $KBE_POD/pids.max 1024; } &&
	kmkdir "runc create (BE container)" $KBE_CTR &&
	kw "runc create (BE container)" $KBE_CTR/cpu.weight $(runc_weight 2) &&
	kw "runc create (BE container)" $KBE_CTR/cpu.max "max 100000" || return 1
	spawn $KBE_CTR /bin/burn
	KPIDS="$KPIDS $!"

	# LS (Burstable) pod: 500m request, 1 CPU and 256 MiB limits
	K_BU_REQ=$K_LS_REQ K_BU_MEM=$K_LS_MEM
	k_update_qos "kubelet pod create (LS)" &&
	kmkdir "kubelet pod create (LS)" $KLS_POD &&
	ls_writes "kubelet pod create (LS)" $KLS_POD $(k_weight $(milli_to_shares $K_LS_REQ)) &&
	kmkdir "runc create (LS container)" $KLS_CTR &&
	ls_writes "runc create (LS container)" $KLS_CTR $(runc_weight $(milli_to_shares $K_LS_REQ)) ||
		return 1
	spawn $KLS_CTR /bin/burn 1000 200
	KPIDS="$KPIDS $!"

	# colod acts within three ticks, more under a TCG slowed down by a busy
	# host: cpu.idle goes on the BE pod, never on a QoS tier
	if [ $HAS_IDLE = true ]; then
		wait_for 30 k_pod_idle
	else
		sleep 4
	fi
	idle_pod=$(cat $KBE_POD/cpu.idle 2>/dev/null || echo none)
	idle_be=$(cat $KBE/cpu.idle 2>/dev/null || echo none)
	weight_pod=$(cat $KBE_POD/cpu.weight)
	echo "colod acted: BE pod cpu.idle $idle_pod, besteffort cpu.idle $idle_be"

	k_update_qos "kubelet periodic QoS update" || return 1

	# in-place resize of the LS pod: 1 CPU request, 1.5 CPU limit, 512 MiB
	K_LS_REQ=1000 K_LS_LIM=1500 K_LS_MEM=536870912 K_BU_REQ=1000 K_BU_MEM=536870912
	w_pod=$(k_weight $(milli_to_shares $K_LS_REQ))
	w_ctr=$(runc_weight $(milli_to_shares $K_LS_REQ))
	ls_writes "kubelet resize (LS pod)" $KLS_POD $w_pod &&
	ls_writes "runc update (LS container)" $KLS_CTR $w_ctr || return 1
	sleep 3
	for f in "$KLS_POD/cpu.weight $w_pod" "$KLS_CTR/cpu.weight $w_ctr" \
		 "$KLS_POD/cpu.max 150000 100000" "$KLS_CTR/cpu.max 150000 100000" \
		 "$KLS_POD/memory.max $K_LS_MEM" "$KLS_CTR/memory.max $K_LS_MEM"; do
		set -- $f
		file=$1
		shift
		[ "$(cat $file)" = "$*" ] || fail "${file#$CG/} reads '$(cat $file)' after the resize, not '$*'" ||
			return 1
	done

	k_start "kubelet restart" || return 1

	# BE pod deleted: containers gone, then the housekeeping (2 s) ReduceCPULimits
	k_pod_gone
	rmdir $KBE_CTR $KLS_CTR 2>$WORK/kw.err || fail "runc delete: $(cat $WORK/kw.err)" || return 1
	sleep 3
	kw "kubelet ReduceCPULimits (BE pod)" $KBE_POD/cpu.weight 1 &&
	kw "kubelet ReduceCPULimits (LS pod)" $KLS_POD/cpu.weight 1 || return 1
	rmdir $KBE_POD $KLS_POD 2>$WORK/kw.err || fail "kubelet Destroy: $(cat $WORK/kw.err)" || return 1
	K_BU_REQ=0 K_BU_MEM=0
	k_update_qos "kubelet periodic QoS update (no pods)" || return 1

	agent_alive || fail "colod run exited" || return 1
	stop_agent TERM
	[ "$AGENT_RC" = 0 ] || fail "colod run exited $AGENT_RC on SIGTERM" || return 1
	if [ $HAS_IDLE = false ]; then
		# no cpu.idle: kubelet's lowest weight stays what holds BE
		[ "$weight_pod" = 1 ] || fail "BE pod cpu.weight $weight_pod, not kubelet's 1" ||
			return 1
		DETAIL="every kubelet and runc write succeeded; no cpu.idle, BE pod at weight 1"
		return 0
	fi
	[ "$idle_pod" = 1 ] || fail "cpu.idle on the BE pod is $idle_pod after 30 s, not 1" || return 1
	[ "$idle_be" = 0 ] || fail "cpu.idle on besteffort is $idle_be, not 0" || return 1
	DETAIL="every kubelet and runc write succeeded; cpu.idle on the BE pod only"
}

# Koordinator pod semantics: c_pod_limits, pk_cleanup (issue 18)
. /pods.sh

# ---- scenario --------------------------------------------------------------

trap cleanup EXIT

# The driver (and the colod it starts, like a node agent in its system
# slice) outweighs the load, so that TCG's slow forks still get CPU.
mkdir -p $CG/colod-vm-driver
echo 10000 > $CG/colod-vm-driver/cpu.weight
echo $$ > $CG/colod-vm-driver/cgroup.procs

check kernel c_kernel
check cgroup_v2_pure c_cgroup_v2_pure
# before any child cgroup exists: the cpu controller can still be disabled
check features c_features
# what this kernel offers, on the console for the record (docs/PORTABILITY.md)
sed 's/^/  | /' $WORK/features.txt 2>/dev/null
check features_fallback c_features_fallback
check clock c_clock

mkdir -p $LS $BE $IDLE
echo 536870912 > $BE/memory.max		# the BE "pod" limit, as kubelet would set it
# Light enough that the driver itself still gets CPU under TCG: LS needs
# 0.5 core in 1 ms periods, BE spins on one core (its demand exceeds any quota).
spawn $LS /bin/burn 1000 500
spawn $BE /bin/burn
sleep 1

check kernel_enforces c_kernel_enforces
check stats c_stats
write_config
check agent_throttles c_agent_throttles
check agent_says_fallbacks c_agent_says_fallbacks
check agent_restores c_agent_restores
check restore_after_kill c_restore_after_kill
check kubelet_writes c_kubelet_writes
# a check that failed half-way leaves the agent running: stop it, undo its writes
stop_agent KILL
timeout -s KILL 60 $COLOD restore --state-dir $STATE >/dev/null 2>&1
k_cleanup
check pod_limits c_pod_limits
pk_cleanup

cleanup
trap - EXIT
echo "colod-vm: agent log:"
tail -n 30 $WORK/agent.log 2>/dev/null | sed 's/^/  | /'
total=$((NPASS + NFAIL))
if [ $NFAIL = 0 ] && [ $total -gt 0 ]; then
	echo "COLOD-VM-RESULT: PASS $NPASS/$total"
else
	echo "COLOD-VM-RESULT: FAIL $NFAIL/$total failed"
fi
