#!/bin/sh
# Runs the binding's tests against BUILD_DIR/libopg.so (default: build), printing the
# `ok` / `FAIL` lines test/run.sh counts. Without python3 it says so and succeeds.
# A library built with AddressSanitizer needs its runtime preloaded into python3;
# PYTHONMALLOC=malloc then gives every ctypes buffer its own malloc block, so a
# struct mirrored smaller than the C one is caught as a heap-buffer-overflow.
# (Leak detection is off: the interpreter itself keeps memory at exit.)
# usage: run_tests.sh [BUILD_DIR]
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip python binding: no python3"
    exit 0
fi
lib=$(cd "$build" && pwd)/libopg.so
asan=$(ldd "$lib" 2>/dev/null | awk '/libasan/ {print $3}')
if [ -n "$asan" ]; then
    LD_PRELOAD=$asan
    ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
    PYTHONMALLOC=malloc
    export LD_PRELOAD ASAN_OPTIONS PYTHONMALLOC
fi
OPG_LIBRARY=$lib exec python3 "$here/test_opg.py"
