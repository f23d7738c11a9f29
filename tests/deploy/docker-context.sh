#!/bin/sh
# The Docker build context (the repository root) is complete for
# deploy/Dockerfile: every path a COPY takes from the context exists (and is
# tracked by git, so a fresh clone has it too), and the runtime stage
# installs the Debian package of every shared library build/colod links.
# No Docker engine runs here, so the image itself is not built.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DF=${DOCKERFILE:-$ROOT/deploy/Dockerfile}
BIN=${COLOD_BIN:-$ROOT/build/colod}
fail=0

# COPY [--chown=..] SRC... DEST, skipping COPY --from=stage
srcs=$(awk 'toupper($1) == "COPY" && $2 !~ /^--from/ {
	n = 0; for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$DF")
[ -n "$srcs" ] || { echo "docker-context: no COPY found in $DF" >&2; exit 1; }
for s in $srcs; do
	p=$ROOT/${s%/}
	if [ ! -e "$p" ]; then
		echo "docker-context: FAIL: COPY $s: not in the build context" >&2
		fail=1
	elif [ -z "$(cd "$ROOT" && git ls-files -- "${s%/}" | head -1)" ]; then
		echo "docker-context: FAIL: COPY $s: exists but is not tracked by git" >&2
		fail=1
	fi
done

# every COPY --from=build source is something `make install DESTDIR=/out
# PREFIX=/usr` produces (install-layout.sh runs that install for real)
for s in $(awk 'toupper($1) == "COPY" && $2 ~ /^--from=build/ { print $3 }' "$DF"); do
	case "$s" in
	/out/usr/bin/colod|/out/etc/colod/) ;;
	*) echo "docker-context: FAIL: COPY --from=build $s: not made by make install" >&2; fail=1 ;;
	esac
done

# runtime packages: one per linked library (libc and friends come with the
# base image)
runtime=$(sed -n '/^FROM debian:12-slim/,$p' "$DF" | tr -s ' \\\n' ' ' |
	sed -n 's/.*apt-get install -y --no-install-recommends \([^&]*\)&&.*/\1/p')
if [ -x "$BIN" ]; then
	for lib in $(ldd "$BIN" | awk '/=>/ { print $3 }'); do
		real=$(readlink -f "$lib")
		pkg=""
		# usrmerge: dpkg may know the file under /lib or under /usr/lib
		for cand in "$real" "${real#/usr}" "$lib" "/usr$lib"; do
			pkg=$(dpkg -S "$cand" 2>/dev/null | head -1 | cut -d: -f1)
			[ -n "$pkg" ] && break
		done
		[ -n "$pkg" ] || { echo "docker-context: FAIL: no package owns $lib" >&2; fail=1; continue; }
		case "$pkg" in
		libc6|libgcc-s1|libzstd1|libssl3|libkrb5-3|libk5crypto3|libkrb5support0|\
libcom-err2|libgssapi-krb5-2|libkeyutils1|libnghttp2-14|libidn2-0|librtmp1|\
libssh2-1|libpsl5|libldap-2.5-0|libsasl2-2|libbrotli1|libgnutls30|libp11-kit0|\
libtasn1-6|libnettle8|libhogweed6|libgmp10|libunistring2|libffi8|libffi7|\
liblzma5|libbz2-1.0|libsasl2-modules-db|libdb5.3|libcrypt1)
			;; # in debian:12-slim or pulled in as a dependency
		*)
			case " $runtime " in
			*" $pkg "*) ;;
			*) echo "docker-context: FAIL: $lib ($pkg) is not installed in the runtime stage" >&2
			   fail=1 ;;
			esac
		esac
	done
else
	echo "docker-context: $BIN not built: library check skipped" >&2
	fail=1
fi
for pkg in $runtime; do
	apt-cache show "$pkg" >/dev/null 2>&1 ||
		{ echo "docker-context: FAIL: runtime package $pkg unknown to apt" >&2; fail=1; }
done
[ $fail -eq 0 ] || exit 1
echo "docker-context: ok (COPY: $(echo $srcs); runtime: $runtime)"
