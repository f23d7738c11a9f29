#!/bin/sh
# Build the initramfs of colod's test VM: busybox (static), colod and the
# test helpers with every shared library ldd finds, jq, the driver and /init.
# No disk, no network: the VM runs from this archive alone.
#
# usage: build-initramfs.sh --out FILE.cpio.gz --colod BIN --burn BIN
#                           --driver SCRIPT --init SCRIPT
#                           [--fakekubelet BIN] [--include SCRIPT]...
#   --fakekubelet: the kubelet stand-in, /bin/fakekubelet
#   --include: a script the driver sources, at /<its name>
set -eu

out= colod= burn= driver= init= fakekubelet= includes=
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--colod) colod=$2; shift 2 ;;
	--burn) burn=$2; shift 2 ;;
	--driver) driver=$2; shift 2 ;;
	--init) init=$2; shift 2 ;;
	--fakekubelet) fakekubelet=$2; shift 2 ;;
	--include) includes="$includes $2"; shift 2 ;;
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
# glibc wants these to resolve "root" and to not complain
echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
echo "root:x:0:" > "$stage/etc/group"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
