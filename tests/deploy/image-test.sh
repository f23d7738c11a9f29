#!/usr/bin/env bash
# The container image for real (docs/OPERATIONS.md "Image test"): build
# deploy/Dockerfile with podman on a Debian 12 base made by debootstrap (no
# registry is reachable: every external FROM of the Dockerfile is tagged
# from that base), then run it as the DaemonSet runs it: the capabilities
# of deploy/daemonset.yaml and no others, a read-only root, the host's PID
# namespace, its host mounts (resctrl only where the host has it), its args.
# Checks: /readyz answers 200, BE QoS lands on a BestEffort pod laid out as
# kubelet lays it out (cpu.idle=1 on the pod cgroup), and SIGTERM (podman
# stop) puts every original back, empties the journal and unpins the maps.
#
# Differences from a cluster, on purpose: host network with the metrics on
# a free loopback port (no CNI here), a private state dir and pin dir (other
# agents run on this machine), and classification rules that leave every
# other test's kubepods tree alone. Exit 77: podman or debootstrap cannot be
# installed (the caller reports a skip).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${IMAGE_DIR:-$ROOT/build/image}
DF=${DOCKERFILE:-$ROOT/deploy/Dockerfile}
DS=${DAEMONSET:-$ROOT/deploy/daemonset.yaml}
TAG=localhost/colod-image-test:$$
NAME=colod-image-test-$$
CG=/sys/fs/cgroup
REL=colod-test-image-$$
POD=$REL/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9
CTR=$POD/5e1ec7ed0000000000000000000000000000000000000000000000000000beef
PIN=/sys/fs/bpf/colod-test-image-$$
CTRLS="cpu cpuacct cpuset memory"
START=$(date +%s)
SLEEPER=

say() { echo "image-test: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# ---- tools ---------------------------------------------------------------
if ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
   ! command -v debootstrap >/dev/null; then
	say "installing podman, runc, debootstrap"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		podman runc debootstrap; } >/dev/null 2>&1 || true
fi
for t in podman runc debootstrap python3 curl; do
	command -v $t >/dev/null || { say "SKIPPED: $t cannot be installed"; exit 77; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/colod-test-image-XXXXXX)

cleanup() {
	set +e
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1
	podman rmi -f "$TAG" >/dev/null 2>&1
	[ -n "$SLEEPER" ] && kill -9 "$SLEEPER" 2>/dev/null && wait "$SLEEPER" 2>/dev/null
	for c in $CTRLS; do
		for d in "$CTR" "$POD" "$REL/kubepods/besteffort" "$REL/kubepods" "$REL"; do
			[ -d "$CG/$c/$d" ] && rmdir "$CG/$c/$d" 2>/dev/null
		done
	done
	rm -rf "$WORK"
	rmdir "$PIN" 2>/dev/null
}
trap cleanup EXIT

# crun refuses to run on this hybrid host; runc works once podman stops
# asking for rlimits that root without CAP_SYS_RESOURCE cannot raise.
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$WORK/containers.conf

# ---- base image: debootstrap once, cached in $OUT ------------------------
BASE_TAR=$OUT/debian-bookworm-minbase.tar
if [ ! -s "$BASE_TAR" ]; then
	say "debootstrap --variant=minbase bookworm (cached in $BASE_TAR)"
	rm -rf "$OUT/rootfs"
	debootstrap --variant=minbase bookworm "$OUT/rootfs" http://deb.debian.org/debian \
		>"$OUT/debootstrap.log" 2>&1 || { tail -20 "$OUT/debootstrap.log" >&2;
		fail "debootstrap failed (log $OUT/debootstrap.log)"; }
	tar -C "$OUT/rootfs" --numeric-owner -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
	rm -rf "$OUT/rootfs"
fi
BASE=localhost/colod-debian-base:bookworm
if ! podman image exists "$BASE"; then
	podman import "$BASE_TAR" "$BASE" >/dev/null
fi
# every image a FROM names that is not a stage of the Dockerfile
for img in $(awk 'toupper($1) == "FROM" { print $2 }' "$DF" | sort -u); do
	awk -v i="$img" 'toupper($1) == "FROM" && toupper($3) == "AS" && $4 == i { f = 1 }
		END { exit !f }' "$DF" && continue
	case "$img" in */*) full=$img ;; *) full=docker.io/library/$img ;; esac
	podman tag "$BASE" "$full"
done

# ---- build ----------------------------------------------------------------
say "podman build (chroot isolation; log $OUT/build.log)"
podman build --isolation chroot --pull=never --network host -f "$DF" -t "$TAG" "$ROOT" \
	>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; fail "podman build failed"; }

# ---- what the DaemonSet grants -------------------------------------------
python3 - "$DS" >"$WORK/ds.env" <<'EOF'
import shlex, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "DaemonSet"]
spec = docs[0]["spec"]["template"]["spec"]
c = spec["containers"][0]
sc = c["securityContext"]
vols = {v["name"]: v for v in spec["volumes"]}
mounts = []
for m in c["volumeMounts"]:
    v = vols[m["name"]]
    src = v["hostPath"]["path"] if "hostPath" in v else "configMap:" + m["name"]
    mounts.append("%s|%s|%s|%s" % (src, m["mountPath"], "ro" if m.get("readOnly") else "rw",
                                   m.get("mountPropagation", "")))
out = {
    "DS_CAPS": ",".join(sc["capabilities"]["add"]),
    "DS_DROP": ",".join(sc["capabilities"]["drop"]),
    "DS_RO": str(sc.get("readOnlyRootFilesystem", False)).lower(),
    "DS_PRIV": str(sc.get("privileged", False)).lower(),
    "DS_NNP": str(not sc.get("allowPrivilegeEscalation", True)).lower(),
    "DS_SECCOMP": sc.get("seccompProfile", {}).get("type", "RuntimeDefault"),
    "DS_USER": str(sc.get("runAsUser", 0)),
    "DS_HOSTPID": str(spec.get("hostPID", False)).lower(),
    "DS_ARGS": " ".join(c.get("args", [])),
    "DS_MOUNTS": " ".join(mounts),
}
for k, v in out.items():
    print("%s=%s" % (k, shlex.quote(v)))
EOF
. "$WORK/ds.env"
[ "$DS_DROP" = ALL ] || fail "the DaemonSet drops $DS_DROP, expected ALL"
[ "$DS_PRIV" = false ] || fail "the DaemonSet runs privileged"

# ---- a BestEffort pod as kubelet (cgroupfs driver) and runc lay it out -----
for c in $CTRLS; do
	p=
	for d in "$REL" "$REL/kubepods" "$REL/kubepods/besteffort" "$POD" "$CTR"; do
		mkdir "$CG/$c/$d"
		if [ "$c" = cpuset ]; then
			cat "$CG/cpuset/${p:-.}/cpuset.cpus" >"$CG/cpuset/$d/cpuset.cpus"
			cat "$CG/cpuset/${p:-.}/cpuset.mems" >"$CG/cpuset/$d/cpuset.mems"
		fi
		p=$d
	done
done
sh -c "for c in $CTRLS; do echo \$\$ > $CG/\$c/$CTR/cgroup.procs; done; exec sleep 600" &
SLEEPER=$!
KNOBS="cpu/cpu.idle cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us
cpuset/cpuset.cpus memory/memory.soft_limit_in_bytes memory/memory.limit_in_bytes"
snapshot() {
	for d in "$POD" "$CTR"; do
		for k in $KNOBS; do printf '%s/%s=%s\n' "$d" "$k" "$(od -An -c "$CG/${k%%/*}/$d/${k#*/}")"; done
	done
}
snapshot >"$WORK/before"

# the ConfigMap: BE CPU QoS on; kubelet's layout is read under this test's
# root only (kubeletCgroupRoot), and rules keep the agent off every other
# cgroup on this machine (classification rules come first)
mkdir -p "$WORK/config" "$WORK/state"
cp "$ROOT"/deploy/config/* "$WORK/config/"
cat >"$WORK/config/colod-config" <<EOF
{ "kubeletCgroupRoot": "/$REL",
  "classificationRules": [
	{ "match": "/[!c]*", "class": "SYSTEM" },
	{ "match": "/colod-test-[!i]*", "class": "SYSTEM" },
	{ "match": "/colod-test-i[!m]*", "class": "SYSTEM" },
	{ "match": "/colod-test-image-[!0-9]*", "class": "SYSTEM" } ] }
EOF
cat >"$WORK/config/resource-qos-config" <<EOF
{ "clusterStrategy": { "beClass": { "cpuQOS": { "enable": true, "schedIdle": 1 } } } }
EOF

# ---- run as the DaemonSet does -----------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set -- --name "$NAME" --detach --cap-drop ALL
for cap in ${DS_CAPS//,/ }; do set -- "$@" --cap-add "CAP_$cap"; done
[ "$DS_RO" = true ] && set -- "$@" --read-only --read-only-tmpfs=false
[ "$DS_NNP" = true ] && set -- "$@" --security-opt no-new-privileges
[ "$DS_SECCOMP" = Unconfined ] && set -- "$@" --security-opt seccomp=unconfined
[ "$DS_HOSTPID" = true ] && set -- "$@" --pid host
set -- "$@" --user "$DS_USER" --network host
for m in $DS_MOUNTS; do
	IFS='|' read -r src dst mode prop <<<"$m"
	case "$src" in
	configMap:*) src=$WORK/config ;;
	/var/lib/colod) src=$WORK/state ;;	# private: no other agent's journal
	esac
	if [ ! -e "$src" ]; then
		say "host has no $src: its mount left out (as deploy/no-resctrl-patch.yaml does)"
		continue
	fi
	opt=$mode
	[ "$prop" = HostToContainer ] && opt=$opt,rslave
	set -- "$@" -v "$src:$dst:$opt"
done
args=
for a in $DS_ARGS; do
	case "$a" in
	--pin-dir=*) a=--pin-dir=$PIN ;;
	--metrics-addr=*) a=--metrics-addr=127.0.0.1:$PORT ;;
	esac
	args="$args $a"
done
say "podman run $* $TAG$args"
# shellcheck disable=SC2086
podman run "$@" "$TAG" $args >/dev/null || fail "podman run failed"

logs() { podman logs "$NAME" 2>&1 | tail -30 >&2; }
ready=
for _ in $(seq 1 120); do
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
	[ "$code" = 200 ] && { ready=1; break; }
	[ "$(podman inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] ||
		{ logs; fail "the container exited before /readyz answered 200"; }
	sleep 0.5
done
[ -n "$ready" ] || { logs; fail "/readyz never answered 200 (last $code)"; }
say "/readyz: 200 after $(( $(date +%s) - START )) s"

idle=
for _ in $(seq 1 60); do
	[ "$(cat "$CG/cpu/$POD/cpu.idle")" = 1 ] && { idle=1; break; }
	sleep 0.5
done
[ -n "$idle" ] || { logs; fail "cpu.idle not set on the BestEffort pod $POD"; }
[ "$(cat "$CG/cpu/$CTR/cpu.idle")" = 0 ] || fail "cpu.idle set on the container, not only the pod"
say "BE QoS: cpu.idle=1 on the pod cgroup"
# (to a file first: grep -q would cut podman logs short, and pipefail fail it)
podman logs "$NAME" >"$WORK/agent.log" 2>&1
grep -q "tracking BE cgroup /$POD" "$WORK/agent.log" ||
	{ logs; fail "the agent did not classify the pod BE"; }
pins=$(ls "$PIN" | wc -l)
[ "$pins" -gt 0 ] || fail "no maps pinned in $PIN"

# ---- SIGTERM: everything back -----------------------------------------
podman stop -t 30 "$NAME" >/dev/null
rc=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$rc" = 0 ] || { logs; fail "exit code $rc after SIGTERM"; }
podman logs "$NAME" >"$WORK/agent.log" 2>&1
grep -q "signal 15: stopping" "$WORK/agent.log" || { logs; fail "no SIGTERM seen"; }
snapshot >"$WORK/after"
diff "$WORK/before" "$WORK/after" >&2 || fail "knobs not back byte for byte after SIGTERM"
grep -q '"op"' "$WORK/state/journal.json" && fail "journal not empty after SIGTERM"
[ ! -e "$PIN" ] || fail "pins left in $PIN"
say "ok: built, ready, BE QoS on a kubelet-layout pod, restored on SIGTERM ($(( $(date +%s) - START )) s)"
