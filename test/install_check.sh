#!/usr/bin/env bash
# Installs libopg into a scratch DESTDIR, builds a five-line program against the
# installed tree through pkg-config only, runs it, then uninstalls and checks that
# nothing of libopg is left. This is what a packager or a host project does, so it
# catches a wrong prefix in opg.pc, a missing header or a broken soname link.
#
# usage: test/install_check.sh        (run from the top of the tree; `make install-check`)
set -euo pipefail

make=${MAKE:-make}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/opg-install-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
prefix=/usr

fail() { echo "install-check: FAIL: $*" >&2; exit 1; }

want=$(sed -n 's/^#define OPG_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9][0-9]*\).*/\2/p' \
    include/opg_core.h | paste -sd.)
[ -n "$want" ] || fail "cannot read the version from include/opg_core.h"

"$make" --no-print-directory install DESTDIR="$root" PREFIX="$prefix" >/dev/null

libdir=$root$prefix/lib
for f in libopg.a "libopg.so.$want" "libopg.so.${want%%.*}" libopg.so pkgconfig/opg.pc; do
    [ -e "$libdir/$f" ] || fail "$prefix/lib/$f was not installed"
done
[ -e "$root$prefix/include/opg.h" ] || fail "$prefix/include/opg.h was not installed"
if command -v readelf >/dev/null; then
    soname=$(readelf -d "$libdir/libopg.so.$want" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
    [ "$soname" = "libopg.so.${want%%.*}" ] || fail "soname is '$soname'"
fi

# pkg-config sees only the installed tree; the sysroot maps its /usr paths into it.
export PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion opg)" = "$want" ] || fail "pkg-config --modversion opg"
flags=$(pkg-config --cflags --libs opg) || fail "pkg-config --cflags --libs opg"
# GMP and libsodium are private: a shared link does not need them, a static one does.
case " $flags " in *" -lgmp "* | *" -lsodium "*) fail "public libs leak GMP/libsodium: $flags" ;; esac
static_flags=" $(pkg-config --static --libs opg) "
case "$static_flags" in *" -lgmp "*) ;; *) fail "static libs lack -lgmp: $static_flags" ;; esac
case "$static_flags" in *" -lsodium "*) ;; *) fail "static libs lack -lsodium: $static_flags" ;; esac

cat >"$tmp/hello.c" <<'EOF'
#include <opg.h>
#include <stdio.h>
int main(void) {
    return printf("%s\n", opg_version_string()) < 0;
}
EOF
# shellcheck disable=SC2086 # flags are words on purpose
"$cc" "$tmp/hello.c" -o "$tmp/hello" $flags || fail "cannot build against the installed tree"
got=$(LD_LIBRARY_PATH=$libdir "$tmp/hello") || fail "the program did not run"
[ "$got" = "$want" ] || fail "program printed '$got', want '$want'"
# and it really used the installed copy
# (ldd's output is taken whole first: grep -q stopping early would SIGPIPE ldd, and
# pipefail would then call a match a failure)
loaded=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/hello")
case "$loaded" in *"=> $libdir/libopg.so"*) ;; *) fail "the program did not load libopg from $libdir" ;; esac

"$make" --no-print-directory uninstall DESTDIR="$root" PREFIX="$prefix" >/dev/null
left=$(find "$root" \( -name '*opg*' -o -name 'opg.pc' \) \! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"

echo "install-check: ok (installed, built with pkg-config, ran: $got; uninstalled cleanly)"
