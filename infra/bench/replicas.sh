#!/usr/bin/env bash
# `make bench-replicas`: ingest and no-op stage throughput with 1, 2 and 3 replicas on one PostgreSQL next to SQLite
# on one replica, and the failover time (kill -9 -> re-invocation elsewhere). Builds the release binaries first
# (BENCH_SKIP_BUILD=1: use .build/release as it is; GANTRY_BIN=DIR: measure another build). Arguments go to
# replicas_bench.py (--deliveries N --apps N --stages N --lease 10s).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "bench: postgresql-15 is not installed (make deps)" >&2; exit 2; }
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] && [ -z "${GANTRY_BIN:-}" ]; then swift build -c release; fi
export GANTRY_BUILTIN_FUNCTIONS="${GANTRY_BUILTIN_FUNCTIONS:-$root/functions}"
exec python3 "$root/infra/bench/replicas_bench.py" --bin "${GANTRY_BIN:-$root/.build/release}" "$@"
