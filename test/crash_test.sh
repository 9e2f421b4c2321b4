#!/usr/bin/env bash
# The LMDB node (examples/node) under SIGKILL, then with a damaged store: `make crash-test`.
#
# usage: crash_test.sh BUILD_DIR BLOCKS KILLS SEED
#
# 1. An uninterrupted run from scratch to height BLOCKS prints the reference
#    "height app-root" lines.
# 2. The node runs again from scratch and is killed with SIGKILL KILLS times at random
#    points (bash $RANDOM seeded with SEED): after a random short sleep (some short
#    enough to land in the start-up load) or after a random number of printed blocks.
#    After every kill it restarts. Each restart must resume at the last printed
#    height or the one after it (a block committed but not yet printed), with the
#    reference's app root for that height: nothing lost, nothing half-applied. Every
#    printed line must be the reference's line for its height, and the last run must
#    reach BLOCKS with the reference's root.
# 3. Copies of the final store, each damaged in one way (truncated, LMDB pages
#    overwritten, a record's bytes changed, a record missing or extra, a stored root
#    changed), must make the node exit with code 3 and say what is wrong; a store of
#    another seed exits 4; bad arguments exit 2. Never a crash.
set -u
build=$1 blocks=$2 kills=$3 seed=$4
node=$build/examples/node/node
damage=$build/test/node_damage
chain=(--seed 7 --nodes 10 --delegators 300)
work=$(mktemp -d "${TMPDIR:-/tmp}/opg-crash.XXXXXX")
trap 'rm -rf "$work"' EXIT
RANDOM=$seed
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# ------------------------------------------------------------- the reference
t0=$SECONDS
if ! "$node" --db "$work/ref" "${chain[@]}" --blocks "$blocks" --print-roots --quiet \
        > "$work/ref.txt" 2> "$work/ref.err"; then
    cat "$work/ref.err"
    echo "FAIL the uninterrupted run"; exit 1
fi
[ "$(wc -l < "$work/ref.txt")" -eq "$blocks" ] || { echo "FAIL reference has not $blocks lines"; exit 1; }
echo "reference: $blocks blocks in $((SECONDS - t0)) s"

# the reference's root at a height
ref_root() { sed -n "${1}p" "$work/ref.txt" | cut -d' ' -f2; }

# ------------------------------------------------------------- kill and restart
t0=$SECONDS
last=0          # the highest height printed so far
killed=0 lost_prints=0
: > "$work/all.txt"
run=0
while :; do
    run=$((run + 1))
    out=$work/run$run.out err=$work/run$run.err
    : > "$out"; : > "$err" # a kill can land before the node's own redirections
    "$node" --db "$work/db" "${chain[@]}" --blocks "$blocks" --print-roots > "$out" 2> "$err" &
    pid=$!
    if [ "$killed" -lt "$kills" ]; then
        case $((RANDOM % 3)) in
        0)  # a sleep of 0 to 30 ms: often still loading the store
            sleep "0.0$(printf '%02d' $((RANDOM % 30)))" ;;
        1)  # 0 to 0.4 s
            sleep "0.$(printf '%03d' $((RANDOM % 400)))" ;;
        2)  # after 1 to 40 more printed blocks
            want=$((1 + RANDOM % 40)) waited=0
            while [ "$(wc -l < "$out")" -lt "$want" ] && kill -0 "$pid" 2>/dev/null &&
                  [ "$waited" -lt 2000 ]; do
                sleep 0.005; waited=$((waited + 1))
            done ;;
        esac
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null; status=$?
    cat "$out" >> "$work/all.txt"
    # where this run resumed (nothing in the store: a fresh start at genesis)
    resumed=$(sed -n 's/^node: resumed at height \([0-9]*\) (app root \([0-9a-f]*\)).*/\1 \2/p' "$err")
    if [ -n "$resumed" ]; then
        h=${resumed%% *} root=${resumed#* }
        if [ "$h" -ne "$last" ] && [ "$h" -ne $((last + 1)) ]; then
            fail "run $run resumed at height $h, the last printed was $last"
        fi
        [ "$h" -eq $((last + 1)) ] && lost_prints=$((lost_prints + 1))
        [ "$root" = "$(ref_root "$h")" ] || fail "run $run resumed at height $h with root $root, not the reference's"
        [ "$h" -gt "$last" ] && last=$h
    elif [ "$last" -gt 0 ] && grep -q . "$out"; then
        fail "run $run printed blocks but did not say where it resumed"
    fi
    if [ -s "$out" ]; then
        first=$(head -n 1 "$out" | cut -d' ' -f1)
        [ "$first" -eq $((last + 1)) ] || fail "run $run began at height $first after height $last"
        last=$(tail -n 1 "$out" | cut -d' ' -f1)
    fi
    if [ "$status" -eq 137 ]; then
        killed=$((killed + 1))
    elif [ "$status" -eq 0 ]; then
        [ "$killed" -ge "$kills" ] && break
        # it finished before the kill: the remaining kills are spent on restarts at the end
        killed=$((killed + 1))
    else
        cat "$err"; fail "run $run exited with status $status"; break
    fi
    if [ "$run" -gt $((kills * 3)) ]; then fail "more than $((kills * 3)) runs"; break; fi
done
bad=$(sort -u "$work/all.txt" | comm -23 - <(sort -u "$work/ref.txt"))
[ -z "$bad" ] || { fail "printed roots that differ from the uninterrupted run:"; echo "$bad" | head -n 3; }
[ "$last" -eq "$blocks" ] || fail "the last run ended at height $last, not $blocks"
# once more: it resumes at the top, with the reference's final root, and does nothing
"$node" --db "$work/db" "${chain[@]}" --blocks "$blocks" 2> "$work/again.err"; status=$?
grep -q "^node: resumed at height $blocks (app root $(ref_root "$blocks"))" "$work/again.err" ||
    fail "a restart at the top does not resume at $blocks with the reference's root (status $status)"
printed=$(sort -u "$work/all.txt" | wc -l)
echo "crashes: $killed SIGKILLs over $run runs in $((SECONDS - t0)) s; $printed of $blocks heights" \
     "printed, every one with the reference's root; $lost_prints restarts found a block" \
     "committed but not yet printed"

# ------------------------------------------------------------- damaged stores
page=$(getconf PAGESIZE)
case_n=0
# expect CODE PATTERN DESCRIPTION -- runs the node on $work/case
expect() {
    local code=$1 pattern=$2 what=$3 status
    "$node" --db "$work/case" "${chain[@]}" --blocks $((blocks + 5)) > /dev/null 2> "$work/case.err"
    status=$?
    case_n=$((case_n + 1))
    if [ "$status" -ne "$code" ] || ! grep -q -- "$pattern" "$work/case.err"; then
        fail "$what: exit status $status (want $code), message:"; cat "$work/case.err"
    elif grep -q 'fault while reading' "$work/case.err"; then
        fail "$what: the node faulted (caught) instead of detecting the damage"
    else
        echo "ok   $what: exit $status: $(head -n 1 "$work/case.err")"
    fi
}
fresh() { rm -rf "$work/case"; cp -r "$work/db" "$work/case"; }
data=$work/case/data.mdb

fresh; truncate -s $(( $(stat -c %s "$data") / 2 )) "$data"
expect 3 'truncated' "data file cut to half"
fresh; truncate -s $((page + 100)) "$data"
expect 3 'truncated' "data file cut inside the second meta page"
fresh; truncate -s 0 "$data"
expect 3 'truncated' "data file cut to 0 bytes"
fresh; dd if=/dev/zero of="$data" bs="$page" count=2 conv=notrunc status=none
expect 3 'MDB_INVALID' "both meta pages zeroed (LMDB: MDB_INVALID)"
fresh; size=$(stat -c %s "$data")
head -c $((size - 2 * page)) /dev/zero | tr '\0' '\245' |
    dd of="$data" bs="$page" seek=2 conv=notrunc status=none
expect 3 'MDB_CORRUPTED\|MDB_PAGE_NOTFOUND' "every data page overwritten with 0xa5 (LMDB: MDB_PAGE_NOTFOUND)"
fresh; head -c $((size - 2 * page)) /dev/zero | dd of="$data" bs="$page" seek=2 conv=notrunc status=none
expect 3 'MDB_CORRUPTED' "every data page zeroed (LMDB: MDB_CORRUPTED)"
fresh; "$damage" "$work/case" flip 1 3
expect 3 'registry.*ECORRUPT' "one bit of a delegation record flipped"
fresh; "$damage" "$work/case" format 1 2
expect 3 'registry.*ECORRUPT' "a node record's format byte changed"
fresh; "$damage" "$work/case" shorten 3 2
expect 3 'splitter.*ECORRUPT' "a splitter node record one byte short"
fresh; "$damage" "$work/case" flip 3 1
expect 3 'splitter.*ECORRUPT' "one bit of the splitter's state record flipped"
fresh; "$damage" "$work/case" delete 1 2
expect 3 'registry.*ECORRUPT' "a node record deleted"
fresh; "$damage" "$work/case" stray
expect 3 'records in the store' "a record under a tag no handle owns"
fresh; "$damage" "$work/case" meta root/registry
expect 3 'registry.*ECORRUPT' "the stored registry root changed"
fresh; "$damage" "$work/case" meta app_root
expect 3 'app root' "the stored app root changed"
fresh; "$damage" "$work/case" meta height
expect 3 'fail their check' "the stored height changed"
fresh
"$node" --db "$work/case" --seed 8 --nodes 10 --delegators 300 --blocks 5 2> "$work/case.err"
[ $? -eq 4 ] && grep -q 'another chain' "$work/case.err" &&
    echo "ok   another seed: exit 4: $(head -n 1 "$work/case.err")" || { fail "another seed:"; cat "$work/case.err"; }
for bad in "--blocks x" "--blocks 0" "--nodes 0" "--seed -1" "--frobnicate" "--db"; do
    # shellcheck disable=SC2086 # one word per argument
    "$node" $bad > /dev/null 2>&1
    [ $? -eq 2 ] && echo "ok   bad arguments \"$bad\": exit 2" || fail "bad arguments \"$bad\""
done
"$node" --blocks 5 > /dev/null 2>&1
[ $? -eq 2 ] && echo "ok   no --db: exit 2" || fail "no --db"

if [ "$failures" -ne 0 ]; then
    echo "crash test: $failures failures"; exit 1
fi
echo "crash test passed: $killed kills, $case_n damaged stores"
