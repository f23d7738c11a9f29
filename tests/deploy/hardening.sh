#!/bin/sh
# The built colod carries the Makefile's hardening (Debian's
# "hardening-check" properties), read from the ELF with readelf:
#   PIE          ELF type DYN and DT_FLAGS_1 PIE
#   RELRO        a GNU_RELRO program header
#   BIND_NOW     DT_FLAGS BIND_NOW or DT_FLAGS_1 NOW (with RELRO: full RELRO)
#   stack prot.  imports __stack_chk_fail (-fstack-protector-strong)
#   fortify      imports glibc's checked variants (__*_chk, _FORTIFY_SOURCE)
# To show that every check can fail, a control binary built without any
# of them must fail all five. hardening-check (devscripts) is run as well
# where installed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-cc}
bin=${COLOD_BIN:-$ROOT/build/colod}
if ! command -v readelf >/dev/null 2>&1; then
	echo "hardening: SKIP: no readelf (binutils) on this machine" >&2
	exit 0
fi
[ -x "$bin" ] || { echo "hardening: $bin not built" >&2; exit 1; }

# check BINARY: prints one "ok NAME" or "missing NAME" line per property
check() {
	hdr=$(readelf -h "$1")
	ph=$(readelf -lW "$1")
	dyn=$(readelf -dW "$1")
	syms=$(readelf --dyn-syms -W "$1")
	if printf '%s\n' "$hdr" | grep -q 'Type:[[:space:]]*DYN' &&
	   printf '%s\n' "$dyn" | grep -q 'FLAGS_1.*PIE'; then
		echo "ok pie"; else echo "missing pie"; fi
	if printf '%s\n' "$ph" | grep -q 'GNU_RELRO'; then
		echo "ok relro"; else echo "missing relro"; fi
	if printf '%s\n' "$dyn" | grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW'; then
		echo "ok bind_now"; else echo "missing bind_now"; fi
	if printf '%s\n' "$syms" | grep -q '__stack_chk_fail'; then
		echo "ok stack_protector"; else echo "missing stack_protector"; fi
	if printf '%s\n' "$syms" | grep -Eq ' __[a-z0-9_]+_chk(@|$)'; then
		echo "ok fortify"; else echo "missing fortify"; fi
}

fail=0
out=$(check "$bin")
printf '%s\n' "$out" | sed "s|^|hardening: $(basename "$bin"): |"
if printf '%s\n' "$out" | grep -q '^missing'; then
	echo "hardening: FAIL: $bin lacks the properties above" >&2
	fail=1
fi

# The control: same kind of code (a stack buffer, a fortifiable call),
# built without hardening. Every check must report it missing.
dir=$(mktemp -d /tmp/colod-test-harden-XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
cat > "$dir/c.c" <<'SRC'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", argc > 1 ? argv[1] : "x");
	memcpy(buf, argv[0], strlen(argv[0]) % sizeof(buf));
	return buf[0] == 'q';
}
SRC
if $CC -O0 -fno-stack-protector -U_FORTIFY_SOURCE -fno-pie -no-pie \
	-Wl,-z,norelro,-z,lazy "$dir/c.c" -o "$dir/control" 2>"$dir/cc.log"; then
	ctl=$(check "$dir/control")
	if printf '%s\n' "$ctl" | grep -q '^ok'; then
		printf '%s\n' "$ctl" >&2
		echo "hardening: FAIL: the checks pass an unhardened binary" >&2
		fail=1
	else
		echo "hardening: control binary without hardening: all 5 reported missing"
	fi
else
	cat "$dir/cc.log" >&2
	echo "hardening: FAIL: cannot build the control binary with $CC" >&2
	fail=1
fi

if command -v hardening-check >/dev/null 2>&1; then
	hardening-check "$bin" || fail=1
else
	echo "hardening: hardening-check (devscripts) not installed: readelf only"
fi
[ "$fail" = 0 ] && echo "hardening: ok"
exit "$fail"
