#!/bin/sh
# Install every build, test, demo and benchmark dependency of colod on
# Debian 12 (bookworm). Idempotent: packages already present are skipped.
# --vm adds what `make test-vm` needs (qemu, a static busybox); the kernel
# image itself is fetched, not installed, by scripts/vm/fetch-kernel.sh.
set -eu

PKGS="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
libcjson-dev libcriterion-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev
libclang-rt-14-dev nginx-light ffmpeg wrk stress-ng libbpf-tools gnuplot-nox
git systemd procps util-linux iproute2 curl python3 jq tmux python3-yaml python3-prometheus-client openssl"
VM_PKGS="qemu-system-x86 busybox-static cpio systemd"
if [ "${1:-}" = "--vm" ]; then
	PKGS="$PKGS $VM_PKGS"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
