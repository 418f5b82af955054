#!/usr/bin/env bash
# Renders an HTML report to a PNG with headless Chromium, to look at the page as a reader does.
#   scripts/screenshot-report.sh results/<run>/report.html /tmp/report.png [WIDTH,HEIGHT]
# Installs Chromium with apt-get when it is missing (Debian/Ubuntu, as root).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2
  exit 64
fi
report=$1
out=$2
size=${3:-1400,2400}
if [ ! -f "$report" ]; then
  echo "error: $report: no such file; give the report.html that \`inferbench report\` or \`inferbench run\` wrote" >&2
  exit 64
fi

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "Chromium not found: installing it with apt-get" >&2
  apt-get update && apt-get install -y chromium
  browser=$(command -v chromium)
fi

abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
mkdir -p "$(dirname "$out")"
# The report fetches nothing, so no network and no profile are needed.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$(mktemp -d)" --window-size="$size" \
  --screenshot="$out" "file://$abs" 2>/dev/null
echo "$out"
