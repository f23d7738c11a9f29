#!/bin/sh
# Build the initramfs of colod's test VM: busybox (static), colod and the
# test helpers with every shared library ldd finds, jq, the driver and /init.
# No disk, no network: the VM runs from this archive alone.
#
# usage: build-initramfs.sh --out FILE.cpio.gz --colod BIN --burn BIN
#                           --driver SCRIPT --init SCRIPT
#                           [--fakekubelet BIN] [--include SCRIPT]...
#                           [--systemd DESTDIR]
#   --fakekubelet: the kubelet stand-in, /bin/fakekubelet
#   --include: a script the driver sources, at /<its name>
#   --systemd: also this machine's systemd (PID 1 of the guest, with
#     systemctl and the *.target units), the tree `make install DESTDIR=`
#     made (colod, /etc/colod, colod.service) and the units that run the
#     driver (tests/vm/systemd-check.sh) as default.target; --init is then
#     scripts/vm/init-systemd.
set -eu

out= colod= burn= driver= init= fakekubelet= includes= sdroot=
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--colod) colod=$2; shift 2 ;;
	--burn) burn=$2; shift 2 ;;
	--driver) driver=$2; shift 2 ;;
	--init) init=$2; shift 2 ;;
	--fakekubelet) fakekubelet=$2; shift 2 ;;
	--include) includes="$includes $2"; shift 2 ;;
	--systemd) sdroot=$2; shift 2 ;;
	*) echo "build-initramfs: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for v in out colod burn driver init; do
	eval val=\$$v
	[ -n "$val" ] || { echo "build-initramfs: --$v is required" >&2; exit 2; }
done
for f in "$colod" "$burn" "$driver" "$init" $fakekubelet $includes; do
	[ -f "$f" ] || { echo "build-initramfs: $f: no such file" >&2; exit 1; }
done

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "build-initramfs: need a static busybox (apt-get install busybox-static;" \
	     "scripts/install-deps.sh --vm)" >&2
	exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" "$stage/proc" \
	 "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/run" "$stage/etc" "$stage/root"
cp "$busybox" "$stage/bin/busybox"
install -m 755 "$colod" "$stage/bin/colod"
install -m 755 "$burn" "$stage/bin/burn"
install -m 755 "$driver" "$stage/driver.sh"
install -m 755 "$init" "$stage/init"
for f in $includes; do
	install -m 644 "$f" "$stage/$(basename "$f")"
done

# copy_libs BIN: the binary's shared libraries (and the loader) at their paths
copy_libs() {
	ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

copy_libs "$colod"
copy_libs "$burn"
if [ -n "$fakekubelet" ]; then
	install -m 755 "$fakekubelet" "$stage/bin/fakekubelet"
	copy_libs "$fakekubelet"
fi
jq=$(command -v jq || true)
if [ -n "$jq" ]; then
	cp -L "$jq" "$stage/bin/jq"
	copy_libs "$jq"
else
	echo "build-initramfs: warning: no jq: the driver's JSON checks will fail" >&2
fi
# The guest boots into systemd: the host's (Debian 12: 252), its libraries,
# the targets every service depends on (sysinit, basic, shutdown...; a
# missing one fails the start job), and the driver as a oneshot unit on the
# console. A service's output goes to journald, which forwards it to the
# console (the unit's PrivateDevices= leaves no /dev/console to write to).
add_systemd() {
	sd=/lib/systemd/systemd
	[ -x $sd ] && command -v systemctl >/dev/null ||
		{ echo "build-initramfs: --systemd needs systemd installed here" >&2; exit 1; }
	[ -x "$sdroot/usr/bin/colod" ] && [ -f "$sdroot/lib/systemd/system/colod.service" ] ||
		{ echo "build-initramfs: $sdroot: no make install tree (PREFIX=/usr)" >&2; exit 1; }
	cp -a "$sdroot/." "$stage/"
	copy_libs "$stage/usr/bin/colod"
	mkdir -p "$stage/lib/systemd" "$stage/etc/systemd/system" "$stage/var/lib" "$stage/check"
	cp -L $sd "$stage/lib/systemd/systemd"
	cp -L /lib/systemd/systemd-shutdown /lib/systemd/systemd-journald "$stage/lib/systemd/"
	copy_libs /lib/systemd/systemd-journald
	cp -L "$(command -v systemctl)" "$stage/bin/systemctl"
	copy_libs $sd
	copy_libs "$stage/bin/systemctl"
	cp /lib/systemd/system/*.target /lib/systemd/system/systemd-journald*.s* \
		"$stage/lib/systemd/system/"
	mkdir -p "$stage/etc/systemd/system/sockets.target.wants"
	for u in systemd-journald.socket systemd-journald-dev-log.socket; do
		ln -sf /lib/systemd/system/$u "$stage/etc/systemd/system/sockets.target.wants/$u"
	done
	cp /etc/os-release "$stage/etc/os-release" 2>/dev/null || cp /usr/lib/os-release "$stage/etc/os-release"
	: > "$stage/etc/machine-id"
	install -m 755 "$driver" "$stage/check/systemd-check.sh"
	cat > "$stage/etc/systemd/system.conf" <<-EOF
	[Manager]
	ShowStatus=yes
	LogTarget=console
	LogLevel=notice
	EOF
	cat > "$stage/etc/systemd/journald.conf" <<-EOF
	[Journal]
	Storage=volatile
	ForwardToConsole=yes
	MaxLevelConsole=info
	EOF
	cat > "$stage/etc/systemd/system/colod-vm.target" <<-EOF
	[Unit]
	Description=colod systemd VM check
	Requires=basic.target colod-vm-check.service
	After=basic.target colod-vm-check.service
	EOF
	cat > "$stage/etc/systemd/system/colod-vm-check.service" <<-EOF
	[Unit]
	Description=colod.service under a real systemd (tests/vm/systemd-check.sh)
	After=basic.target
	[Service]
	Type=oneshot
	ExecStart=/bin/busybox sh /check/systemd-check.sh
	StandardOutput=tty
	StandardError=tty
	EOF
	ln -sf colod-vm.target "$stage/etc/systemd/system/default.target"
}
[ -z "$sdroot" ] || add_systemd

# glibc wants these to resolve "root" and to not complain
echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
echo "root:x:0:" > "$stage/etc/group"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
