# Sourced by the benchmark scripts: INFERBENCH (the release binary, built when missing and not
# given) and PYTHON (the project's .venv, else python3), unless the caller set them.
HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
if [ -z "${INFERBENCH:-}" ]; then
  INFERBENCH=$HERE/../.build/release/inferbench
  test -x "$INFERBENCH" || (cd "$HERE/.." && swift build -c release >&2)
fi
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
