#!/usr/bin/env bash
# Runs every test program and fuzz replay driver; prints each result line and, last,
# exactly one line "N passed, M failed". Exits non-zero if anything failed.
# usage: run.sh BUILD_DIR TEST_BIN... -- FUZZ_NAME... [-- EXAMPLE_BIN...]
# An example passes when it exits with status 0. The Python binding's tests
# (examples/python) run last, when python3 is there.
set -u
build=$1; shift
tests=(); fuzz=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do tests+=("$1"); shift; done
[ $# -gt 0 ] && shift
while [ $# -gt 0 ] && [ "$1" != "--" ]; do fuzz+=("$1"); shift; done
[ $# -gt 0 ] && shift
examples=("$@")
here=$(cd "$(dirname "$0")" && pwd)
passed=0; failed=0

run_one() { # name, command...
    local name=$1; shift
    local out rc
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^$'
    local p f
    p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
    f=$(printf '%s\n' "$out" | grep -c '^FAIL ' || true)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name (exit status $rc)"
        f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
}

for t in "${tests[@]}"; do
    echo "# $(basename "$t")"
    run_one "$(basename "$t")" "$t"
done
for f in "${fuzz[@]}"; do
    echo "# replay_$f"
    run_one "replay_$f" "$build/fuzz/replay_$f" "$here/fuzz/corpus/$f"
done
for e in "${examples[@]}"; do
    name="example_$(basename "$e")"
    echo "# $name"
    if out=$("$e" 2>&1); then
        echo "ok   $name"; passed=$((passed + 1))
    else
        printf '%s\n' "$out" | tail -5
        echo "FAIL $name"; failed=$((failed + 1))
    fi
done
# The Python binding's tests against this build's libopg.so (skipped without python3).
if [ -f "$here/../examples/python/run_tests.sh" ]; then
    echo "# python binding"
    run_one python_binding sh "$here/../examples/python/run_tests.sh" "$build"
fi
# The workbench's checks (short runs), when the Makefile says where it is.
if [ -n "${WORKBENCH:-}" ] && [ -x "$WORKBENCH" ]; then
    echo "# workbench"
    run_one workbench bash "$here/workbench.sh" "$WORKBENCH"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
