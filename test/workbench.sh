#!/usr/bin/env bash
# The workbench's checks, on short runs: prints `ok NAME` or `FAIL NAME` per check.
#   same seed and settings -> byte-identical CSV and HTML
#   the daily supply identity holds in every shipped scenario (the run exits non-zero
#   on the first day it does not)
#   a sweep over distribution.community_tax raises the community pool monotonically
#   a bad key or value (--set or scenario file) is an error naming it, exit non-zero,
#   nothing written
#   the sweep's job list runs under GNU parallel (when `parallel` is installed)
# usage: workbench.sh PATH/TO/workbench
set -u
wb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
scen=$here/../examples/scenarios
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
short=(--set world.days=12 --set world.delegators=3000 --set world.nodes=60)
ok() { echo "ok   workbench: $*"; }
fail() { echo "FAIL workbench: $*"; }

# 1. determinism
"$wb" --scenario "$scen/baseline.conf" "${short[@]}" --out "$tmp/a" --quiet &&
"$wb" --scenario "$scen/baseline.conf" "${short[@]}" --out "$tmp/b" --quiet
if cmp -s "$tmp/a/timeseries.csv" "$tmp/b/timeseries.csv" && cmp -s "$tmp/a/report.html" "$tmp/b/report.html" &&
   cmp -s "$tmp/a/final.csv" "$tmp/b/final.csv"; then ok "same seed and settings give identical CSV and HTML"
else fail "same seed and settings give identical CSV and HTML"; fi
"$wb" --scenario "$scen/baseline.conf" "${short[@]}" --set world.seed=2 --out "$tmp/c" --quiet
if ! cmp -s "$tmp/a/timeseries.csv" "$tmp/c/timeseries.csv"; then ok "another seed gives another run"
else fail "another seed gives another run"; fi

# 2. the supply identity in every scenario (checked daily inside the run)
for f in "$scen"/*.conf; do
    n=$(basename "$f" .conf)
    if "$wb" --scenario "$f" "${short[@]}" --out "$tmp/s-$n" --quiet 2> "$tmp/s-$n.err" &&
       grep -q '^supply_checks,1[0-9]$' "$tmp/s-$n/final.csv"; then
        ok "scenario $n: the supply adds up every day"
    else
        cat "$tmp/s-$n.err"; fail "scenario $n: the supply adds up every day"
    fi
done

# 3. a sweep over the community tax
if "$wb" --scenario "$scen/baseline.conf" "${short[@]}" --sweep distribution.community_tax=0.0,0.02,0.1,0.3 \
        --out "$tmp/sw" --jobs 2 > "$tmp/sw.log" 2>&1 &&
   [ -f "$tmp/sw/report.html" ] && [ -f "$tmp/sw/comparison.csv" ]; then
    col=$(head -1 "$tmp/sw/comparison.csv" | tr ',' '\n' | grep -n '^community_pool_opg$' | cut -d: -f1)
    if cut -d, -f"$col" "$tmp/sw/comparison.csv" | tail -n +2 | awk 'NR > 1 && $1 + 0 <= prev + 0 {bad = 1} {prev = $1} END {exit bad}'
    then ok "a sweep over distribution.community_tax raises the community pool"
    else cat "$tmp/sw/comparison.csv"; fail "a sweep over distribution.community_tax raises the community pool"; fi
else
    cat "$tmp/sw.log"; fail "sweep over distribution.community_tax runs"
fi
if "$wb" "${short[@]}" --set world.days=3 --sweep workload.users=1000,3000 --sweep distribution.perf_share=0,0.5 \
        --out "$tmp/grid" > "$tmp/grid.log" 2>&1 && [ "$(ls -d "$tmp"/grid/point-* | wc -l)" = 4 ]; then
    ok "a two-key sweep runs a grid of 4 points"
else cat "$tmp/grid.log"; fail "a two-key sweep runs a grid of 4 points"; fi

# 4. bad keys and values: a clear error naming them, non-zero, nothing written
bad() { # name expected-text args...
    local name=$1 want=$2; shift 2
    rm -rf "$tmp/bad"
    if "$wb" "$@" --out "$tmp/bad" > "$tmp/bad.out" 2> "$tmp/bad.err"; then
        fail "$name: exits non-zero"; return
    fi
    if ! grep -qF -- "$want" "$tmp/bad.err"; then cat "$tmp/bad.err"; fail "$name: names $want"; return; fi
    if [ -e "$tmp/bad" ]; then fail "$name: writes nothing"; return; fi
    ok "$name: a clear error, non-zero, nothing written"
}
bad "unknown library key" "distribution.comunity_tax" --set distribution.comunity_tax=0.1
bad "library value out of range" "distribution.community_tax = 2" --set distribution.community_tax=2
bad "library value not a number" "staking.max_validators = many" --set staking.max_validators=many
bad "unknown workload key" "workload.userz" --set workload.userz=5
bad "workload value not a number" "workload.users = lots" --set workload.users=lots
bad "not key=value" "novalue" --set novalue
printf 'world.days = 3\nslashing.reporter_share = 1.5\n' > "$tmp/badvalue.conf"
bad "scenario file, bad value" "badvalue.conf:2" --scenario "$tmp/badvalue.conf"
printf 'world.days = 3\nno.such.key = 1\n' > "$tmp/badkey.conf"
bad "scenario file, unknown key" "no.such.key" --scenario "$tmp/badkey.conf"
bad "bad value in one sweep point" "distribution.community_tax = 7" --set world.days=2 \
    --sweep distribution.community_tax=0.1,7

# 5. the job list for GNU parallel, run on this machine
if command -v parallel > /dev/null; then
    if "$wb" "${short[@]}" --set world.days=3 --sweep distribution.community_tax=0.01,0.05,0.2 --out "$tmp/gp" \
            --print-jobs > "$tmp/jobs.txt" && [ "$(wc -l < "$tmp/jobs.txt")" = 3 ] &&
       parallel --will-cite -j 2 < "$tmp/jobs.txt" > "$tmp/gp.log" 2>&1 &&
       "$wb" --compare "$tmp/gp" > /dev/null && [ -f "$tmp/gp/report.html" ]; then
        "$wb" "${short[@]}" --set world.days=3 --sweep distribution.community_tax=0.01,0.05,0.2 --out "$tmp/gq" > /dev/null 2>&1
        if cmp -s "$tmp/gp/comparison.csv" "$tmp/gq/comparison.csv"; then
            ok "the job list under GNU parallel gives the sweep's own comparison"
        else fail "the job list under GNU parallel gives the sweep's own comparison"; fi
    else
        cat "$tmp/gp.log" 2>/dev/null; fail "the job list runs under GNU parallel"
    fi
else
    echo "skip workbench: GNU parallel not installed (apt-get install parallel)"
fi
