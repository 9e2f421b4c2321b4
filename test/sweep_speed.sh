#!/usr/bin/env bash
# make sweep-speed: one point, then a sweep of 8 such points, back to back, with the
# machine's load before each; prints each point's own timings (timing.txt) so the
# cost of a point inside the sweep can be compared with a point alone.
# usage: sweep_speed.sh PATH/TO/workbench DAYS
set -euo pipefail
wb=$1; days=${2:-90}
out=build/sweep-speed
rm -rf "$out"; mkdir -p "$out"
args=(--scenario examples/scenarios/baseline.conf --set world.days="$days" --quiet)
echo "load: $(uptime)"
s=$(date +%s.%N)
"$wb" "${args[@]}" --set distribution.community_tax=0.02 --out "$out/one"
one=$(echo "$(date +%s.%N) - $s" | bc)
echo "one point: ${one} s ($(tr '\n' ' ' < "$out/one/timing.txt"))"
echo "load: $(uptime)"
s=$(date +%s.%N)
"$wb" "${args[@]}" --sweep distribution.community_tax=0.01,0.02,0.03,0.05,0.08,0.1,0.15,0.2 --out "$out/sweep" 2> "$out/sweep.log" > /dev/null
all=$(echo "$(date +%s.%N) - $s" | bc)
for t in "$out"/sweep/point-*/timing.txt; do echo "  $(basename "$(dirname "$t")"): $(tr '\n' ' ' < "$t")"; done
echo "sweep of 8 points: ${all} s = $(echo "scale=2; $all / $one" | bc) x one point (cores: $(nproc))"
