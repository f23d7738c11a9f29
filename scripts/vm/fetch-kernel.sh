#!/bin/sh
# Put Debian 12's stock kernel (the one linux-image-amd64 points to) at
# DIR/vmlinuz without installing it: apt-get download + dpkg-deb -x, so no
# initramfs hooks run and /boot of this machine is left alone.
#
# usage: fetch-kernel.sh DIR     (prints the kernel's path on success)
# exit 0, or 77 with the reason when the package cannot be had.
set -eu

dir=${1:?usage: fetch-kernel.sh DIR}
if [ -s "$dir/vmlinuz" ]; then
	echo "$dir/vmlinuz"
	exit 0
fi

skip() {
	echo "fetch-kernel: $*" >&2
	exit 77
}

command -v apt-get >/dev/null || skip "no apt-get: cannot fetch linux-image-amd64"
command -v dpkg-deb >/dev/null || skip "no dpkg-deb"

pkg_of_meta() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

pkg=$(pkg_of_meta)
if [ -z "$pkg" ]; then
	# package lists not fetched yet on a fresh machine
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(pkg_of_meta)
fi
[ -n "$pkg" ] || skip "apt knows no linux-image-amd64 (no Debian package lists?)"

mkdir -p "$dir/dl" "$dir/root"
(cd "$dir/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) ||
	skip "apt-get download $pkg failed"
deb=$(ls "$dir/dl/${pkg}_"*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || skip "apt-get download $pkg left no .deb"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/root" ./boot ||
	skip "cannot unpack $deb"
vmlinuz=$(ls "$dir/root/boot/vmlinuz-"* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || skip "$deb has no /boot/vmlinuz-*"
cp "$vmlinuz" "$dir/vmlinuz.tmp"
cp "$dir/root/boot/config-"* "$dir/config" 2>/dev/null || true
echo "$pkg" > "$dir/package"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
# the .deb (70 MB) is not needed any more
rm -rf "$dir/dl" "$dir/root"
echo "$dir/vmlinuz"
