#!/bin/sh
# Put the stock kernel of a Debian release (the one its linux-image-amd64
# points to) at DIR/vmlinuz without installing it: apt-get download +
# dpkg-deb -x, so no initramfs hooks run and /boot of this machine is left
# alone. The release's package lists are fetched into DIR/apt with a
# private sources.list (-o Dir::Etc::sourcelist=...), so the host's apt
# configuration and lists are not changed.
#
# usage: fetch-kernel.sh [--suite SUITE] [--mirror URL] DIR
#   SUITE: bullseye (Debian 11, 5.10), bookworm (Debian 12, 6.1, default),
#          trixie (Debian 13, 6.12)
# Prints the kernel's path on success; exit 0, or 77 with the reason when
# the package cannot be had.
set -eu

suite=bookworm
mirror=${COLOD_VM_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 1 ]; do
	case "$1" in
	--suite) suite=$2; shift 2 ;;
	--mirror) mirror=$2; shift 2 ;;
	*) echo "fetch-kernel: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
dir=${1:?usage: fetch-kernel.sh [--suite SUITE] DIR}
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

# The release's lists only, in DIR/apt: nothing of the host's apt is read
# (sources.list.d, preferences) or written (lists, caches).
mkdir -p "$dir"
adir=$(cd "$dir" && pwd)/apt
mkdir -p "$adir/lists/partial" "$adir/cache/archives/partial" "$adir/parts" "$adir/prefs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || skip "$keyring not found (package debian-archive-keyring)"
echo "deb [arch=amd64 signed-by=$keyring] $mirror $suite main" > "$adir/sources.list"
apt_priv() {
	"$@" -o Dir::Etc::sourcelist="$adir/sources.list" \
		-o Dir::Etc::sourceparts="$adir/parts" \
		-o Dir::Etc::preferencesparts="$adir/prefs" \
		-o Dir::State::Lists="$adir/lists" \
		-o Dir::Cache="$adir/cache" \
		-o Dir::State::status=/dev/null \
		-o APT::Architecture=amd64 -o APT::Architectures::=amd64 \
		-o APT::Sandbox::User=root -o Debug::NoLocking=1
}

pkg_of_meta() {
	apt_priv apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

pkg=$(pkg_of_meta)
if [ -z "$pkg" ]; then
	apt_priv apt-get update -qq >"$adir/update.log" 2>&1 ||
		skip "apt-get update of $suite from $mirror failed: $(tail -n 3 "$adir/update.log")"
	pkg=$(pkg_of_meta)
fi
[ -n "$pkg" ] || skip "$suite at $mirror has no linux-image-amd64"

mkdir -p "$dir/dl" "$dir/root"
(cd "$dir/dl" && apt_priv apt-get download -q "$pkg" >"$adir/download.log" 2>&1) ||
	skip "apt-get download $pkg ($suite) failed: $(tail -n 3 "$adir/download.log")"
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
# the .deb (70 MB) and the lists are not needed any more
rm -rf "$dir/dl" "$dir/root" "$adir"
echo "$dir/vmlinuz"
