#!/usr/bin/env bash
# Builds libopg and test/determinism/scenario.c with several compilers, optimisation
# levels and word sizes, each in its own build directory, runs the same seeded
# scenario with each build and fails unless every build prints the same final state
# hashes and transcript.
#
#   bash test/determinism/run.sh [BLOCKS]        (make determinism runs it)
#
# Builds: gcc -O0, gcc -O3, clang -O2, and gcc -m32 -O2 (32-bit x86) when Debian's
# gcc-multilib, libgmp-dev:i386 and libsodium-dev:i386 are there (as root, a missing
# set is installed first). Where the kernel cannot run 32-bit programs (no IA-32
# emulation, as in some VMs) the 32-bit scenario runs under qemu-i386 (qemu-user).
# DET_M32=0 skips the 32-bit build; DET_M32=1 makes its absence an error instead
# of a skip.
set -u
cd "$(dirname "$0")/../.."
blocks=${1:-5000}
make=${MAKE:-make}
m32=${DET_M32:-auto}

# name | compiler | flags
builds=("gcc-O0|gcc|-O0" "gcc-O3|gcc|-O3" "clang-O2|clang|-O2")

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -E "$@"; else return 1; fi
}

# clang is one of the required builds: install it like `make deps` would.
if ! command -v clang >/dev/null; then
    echo "determinism: installing clang"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null ||
        { echo "determinism: clang is missing (apt-get install clang)"; exit 1; }
fi

# A 32-bit program runs natively where the kernel has IA-32 emulation, else under
# qemu-i386 (Debian's qemu-user); m32_run is set to what runs it.
m32_run=""
m32_works() {
    local probe=/tmp/opg-m32-probe.$$
    printf '#include <gmp.h>\n#include <sodium.h>\nint main(void){mp_limb_t l=0;(void)l;return sodium_init()<0;}\n' |
        gcc -m32 -x c - -o $probe -lgmp -lsodium >/dev/null 2>&1 || { rm -f $probe; return 1; }
    if $probe >/dev/null 2>&1; then
        m32_run=" "
    elif command -v qemu-i386 >/dev/null && qemu-i386 $probe >/dev/null 2>&1; then
        m32_run="qemu-i386"
    fi
    rm -f $probe
    [ -n "$m32_run" ]
}

m32_reason=""
if [ "$m32" != 0 ]; then
    if ! m32_works && command -v dpkg >/dev/null && [ "$(dpkg --print-architecture)" = amd64 ]; then
        echo "determinism: installing the 32-bit toolchain (gcc-multilib libgmp-dev:i386 libsodium-dev:i386)"
        # an index that fails to download (a mirror mid-sync) is not fatal: the
        # install below decides
        as_root dpkg --add-architecture i386 &&
            { as_root apt-get update -qq >/dev/null 2>&1 || true; } &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                gcc-multilib libgmp-dev:i386 libsodium-dev:i386 qemu-user >/dev/null 2>&1 || true
    fi
    if m32_works; then
        builds+=("gcc-m32-O2|gcc|-m32 -O2")
    elif command -v dpkg >/dev/null && [ "$(dpkg --print-architecture)" != amd64 ]; then
        m32_reason="not an amd64 Debian machine"
    else
        m32_reason="gcc -m32 cannot build and run a program against 32-bit GMP and libsodium (gcc-multilib libgmp-dev:i386 libsodium-dev:i386, and qemu-user where the kernel has no IA-32 emulation, did not install)"
    fi
    if [ -n "$m32_reason" ] && [ "$m32" = 1 ]; then
        echo "determinism: 32-bit build required but unavailable: $m32_reason"
        exit 1
    fi
fi

mkdir -p build
first=""
first_out=""
fail=0
printf '%-12s %8s   %s\n' build seconds "first state hash"
for b in "${builds[@]}"; do
    IFS='|' read -r name cc flags <<<"$b"
    dir=build/det-$name
    # shellcheck disable=SC2086 # flags are words
    if ! "$make" --no-print-directory -s B="$dir" CC="$cc" CFLAGS="$flags" LDFLAGS="" "$dir/libopg.a" \
            >"$dir.log" 2>&1 ||
       ! $cc -std=c11 $flags -Iinclude test/determinism/scenario.c "$dir/libopg.a" -lgmp -lsodium \
            -o "$dir/scenario" >>"$dir.log" 2>&1; then
        echo "determinism: the $name build failed:"
        tail -n 20 "$dir.log"
        exit 1
    fi
    run=()
    case $name in *m32*) [ "$m32_run" != " " ] && run=("$m32_run") ;; esac
    start=$(date +%s.%N)
    if ! "${run[@]}" "$dir/scenario" "$blocks" >"$dir/scenario.out" 2>&1; then
        echo "determinism: the $name scenario failed:"
        tail -n 20 "$dir/scenario.out"
        exit 1
    fi
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    printf '%-12s %8s   %s%s\n' "$name" "$secs" "$(awk '/ registry /{print $4; exit}' "$dir/scenario.out")" \
        "${run[*]:+  (under ${run[*]})}"
    if [ -z "$first" ]; then
        first=$name
        first_out=$dir/scenario.out
    elif ! cmp -s "$first_out" "$dir/scenario.out"; then
        echo "determinism: $name differs from $first:"
        diff "$first_out" "$dir/scenario.out" | head -n 30
        fail=1
    fi
done
[ -n "$m32_reason" ] && echo "determinism: 32-bit build skipped: $m32_reason"
if [ "$fail" = 0 ]; then
    echo "determinism: ${#builds[@]} builds print the same final state:"
    sed 's/^/  /' "$first_out"
fi
exit $fail
