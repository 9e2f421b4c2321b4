#!/usr/bin/env bash
# make report-check: a short run and a small sweep, each report rendered by headless
# Chromium (Debian `chromium`) into a screenshot, which test/report_check.py checks
# is not blank and shows the charts' series colours.
# usage: report_check.sh PATH/TO/workbench
set -euo pipefail
wb=$1
here=$(cd "$(dirname "$0")" && pwd)
out=build/report-check
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "report-check needs chromium (apt-get install chromium)"; exit 1; }
rm -rf "$out"; mkdir -p "$out"
"$wb" --scenario "$here/../examples/scenarios/baseline.conf" --set world.days=40 \
    --set world.delegators=5000 --out "$out/run" --quiet
"$wb" --set world.days=20 --set world.delegators=3000 \
    --sweep distribution.community_tax=0.02,0.1,0.2 --out "$out/sweep" > /dev/null 2>&1
shoot() { # report.html screenshot.png
    # a fresh profile each time; the page fetches nothing (self-contained)
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
        --user-data-dir="$out/profile" --window-size=1200,2400 \
        --screenshot="$2" "file://$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" > "$out/chromium.log" 2>&1 \
        || { cat "$out/chromium.log"; exit 1; }
    [ -s "$2" ] || { cat "$out/chromium.log"; echo "no screenshot"; exit 1; }
}
grep -q 'src="http\|href="http' "$out/run/report.html" && { echo "the report fetches from a network"; exit 1; }
shoot "$out/run/report.html" "$out/run.png"
python3 "$here/report_check.py" "$out/run.png"
shoot "$out/sweep/report.html" "$out/sweep.png"
python3 "$here/report_check.py" "$out/sweep.png"
echo "report-check: both reports drew (screenshots in $out/)"
