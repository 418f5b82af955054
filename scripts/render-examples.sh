#!/usr/bin/env bash
# Re-renders the reports and terminal summaries under docs/examples from their results files
# with the current binary, so that what the docs show is what inferbench prints today. The
# measurements are not re-run (they came from lent GPUs); terminal.txt files stay as captured.
#   scripts/render-examples.sh [path/to/inferbench]
set -euo pipefail
IB=${1:-.build/debug/inferbench}
export COLUMNS=100
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
render() { # results.json, prefix for report.md/html/summary.txt ("" or "name-"), language
  local json=$1 prefix=$2 lang=${3:-en} dir suffix=""
  dir=$(dirname "$json"); [ "$lang" = zh ] && suffix=".zh"
  rm -rf "$tmp/out"
  "$IB" report "$json" --format md,html --lang "$lang" --summary --out "$tmp/out" > "$tmp/summary.txt" 2>&1 || { cat "$tmp/summary.txt"; return 1; }
  grep -v "^$tmp/out/" "$tmp/summary.txt" > "$dir/${prefix}summary$suffix.txt"
  cp "$tmp/out/report.md" "$dir/${prefix}report$suffix.md"
  cp "$tmp/out/report.html" "$dir/${prefix}report$suffix.html"
  echo "$dir/${prefix}{report$suffix.md,report$suffix.html,summary$suffix.txt}"
}
for json in docs/examples/*/results.json docs/examples/*/*-results.json; do
  dir=$(dirname "$json"); base=$(basename "$json")
  prefix=${base%results.json}
  # Only results that have a report beside them, or are a load test's, are rendered.
  [ -f "$dir/${prefix}report.md" ] || python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("load_tests") else 1)' "$json" || continue
  render "$json" "$prefix"
done
render docs/examples/guide-assessment-h100/resnet50-results.json resnet50- zh
render docs/examples/replication-h200/load-1-results.json load-1- zh
