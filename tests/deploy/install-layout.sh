#!/bin/sh
# `make install` honours PREFIX and DESTDIR and lays out what the systemd
# unit and the Dockerfile expect; a second install keeps an edited config.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
dir=$(mktemp -d /tmp/colod-test-install-XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "install-layout: FAIL: $*" >&2; exit 1; }

make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$dir/a" PREFIX=/usr >"$dir/log" 2>&1 ||
	{ cat "$dir/log" >&2; fail "make install"; }
[ -x "$dir/a/usr/bin/colod" ] || fail "no $dir/a/usr/bin/colod"
unit=$dir/a/lib/systemd/system/colod.service
[ -f "$unit" ] || fail "no unit at /lib/systemd/system/colod.service"
grep -q '^ExecStart=/usr/bin/colod run ' "$unit" || fail "unit ExecStart not /usr/bin/colod"
! grep -q '@[A-Z]*@' "$unit" || fail "placeholders left in the unit"
[ -f "$dir/a/usr/share/doc/colod/OPERATIONS.md" ] || fail "no OPERATIONS.md"
if [ -d "$ROOT/deploy/config" ]; then
	for f in "$ROOT"/deploy/config/*; do
		cmp -s "$f" "$dir/a/etc/colod/$(basename "$f")" ||
			fail "/etc/colod/$(basename "$f") differs from deploy/config"
	done
	"$dir/a/usr/bin/colod" check-config "$dir/a/etc/colod" >/dev/null 2>&1 ||
		fail "installed /etc/colod does not pass colod check-config"
	# an admin's edit survives a reinstall
	one=$(ls "$dir/a/etc/colod" | head -1)
	echo '{"edited": true}' > "$dir/a/etc/colod/$one"
	make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$dir/a" PREFIX=/usr >"$dir/log" 2>&1 ||
		fail "second make install"
	grep -q edited "$dir/a/etc/colod/$one" || fail "reinstall overwrote /etc/colod/$one"
fi
# default PREFIX is /usr/local
make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$dir/b" >"$dir/log" 2>&1 ||
	fail "make install (default PREFIX)"
[ -x "$dir/b/usr/local/bin/colod" ] || fail "default PREFIX is not /usr/local"
grep -q '^ExecStart=/usr/local/bin/colod ' "$dir/b/lib/systemd/system/colod.service" ||
	fail "unit does not follow PREFIX"
echo "install-layout: ok"
