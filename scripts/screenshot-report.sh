#!/usr/bin/env bash
# Renders an HTML report to a PNG with headless Chromium, to look at the page as a reader does.
#   scripts/screenshot-report.sh results/<run>/report.html /tmp/report.png [WIDTH,HEIGHT]
# Installs Chromium, and for a Chinese report a CJK font, with apt-get when missing (Debian/Ubuntu, as root).
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

# A Chinese report (<html lang="zh-CN">, from `report --lang zh`) needs a CJK font, or every
# character renders as a box. fc-list answers whether one is installed; if not, install one.
if grep -q '<html lang="zh' "$report"; then
  if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    echo "No CJK font found for this Chinese report: installing fonts-wqy-microhei with apt-get" >&2
    apt-get update && apt-get install -y fontconfig fonts-wqy-microhei \
      || apt-get install -y fontconfig fonts-noto-cjk \
      || { echo "error: no CJK font could be installed; install fonts-wqy-microhei or fonts-noto-cjk (Debian/Ubuntu) and run again" >&2; exit 4; }
    fc-cache -f >/dev/null
  fi
fi

abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
mkdir -p "$(dirname "$out")"
# The report fetches nothing, so no network and no profile are needed.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$(mktemp -d)" --window-size="$size" \
  --screenshot="$out" "file://$abs" 2>/dev/null
echo "$out"
