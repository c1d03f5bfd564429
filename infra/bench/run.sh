#!/usr/bin/env bash
# `make bench`: builds the release binaries, then runs the benchmark driver against real `gantry serve`
# processes (temp dirs, loopback ports chosen by the kernel). Arguments go to the driver, e.g.
#   bash infra/bench/run.sh --quick        smaller counts, to try it out
#   bash infra/bench/run.sh --only 4       only the restart measure
#   bash infra/bench/run.sh --keep         keep configs, repos and server logs for inspection
# BENCH_SKIP_BUILD=1 uses the existing .build/release as it is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

for tool in python3 git curl openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (run \`make deps\`)" >&2; exit 2; }
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  command -v swift >/dev/null || { echo "bench: swift is not on PATH: cannot build the release binaries" >&2; exit 2; }
  echo "bench: swift build -c release"
  if ! swift build -c release; then
    echo "bench: the release build failed; nothing was measured" >&2
    exit 2
  fi
fi

bin="$root/.build/release"
export GANTRY_BUILTIN_FUNCTIONS="${GANTRY_BUILTIN_FUNCTIONS:-$root/functions}"
# exec: Ctrl-C and SIGTERM go straight to the driver, which stops every server it started.
exec python3 "$root/infra/bench/bench.py" --bin "$bin" "$@"
