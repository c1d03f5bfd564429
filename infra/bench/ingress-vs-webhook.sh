#!/usr/bin/env bash
# Webhook ingress, side by side: Gantry (release build; HMAC-SHA256 verify, parse, durable SQLite enqueue with
# group commit, 202) against adnanh/webhook (Debian's `webhook` package; payload-hmac-sha256 rule running
# /bin/true), both on loopback, driven by wrk at a fixed concurrency with the same signed GitHub push body.
# Gantry needs a fresh X-GitHub-Delivery per request (else it answers "duplicate" without enqueuing): the wrk
# Lua script makes one per request. Rounds alternate A B A B so machine drift hits both; the median counts.
#
#   bash infra/bench/ingress-vs-webhook.sh                 defaults: 16 connections, 10 s per round, 3 rounds
#   CONNECTIONS=32 DURATION=15 ROUNDS=5 bash infra/bench/ingress-vs-webhook.sh
#   BENCH_SKIP_BUILD=1 uses .build/release as it is; KEEP=1 keeps the temp dir (configs, logs, database).
# Needs: apt-get install webhook wrk (plus what `make deps` installs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
connections="${CONNECTIONS:-16}"
duration="${DURATION:-10}"
rounds="${ROUNDS:-3}"
threads="${THREADS:-1}"

for tool in webhook wrk openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install webhook wrk)" >&2; exit 2; }
done
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "bench: swift build -c release" >&2
  (cd "$root" && swift build -c release >&2) || { echo "bench: the release build failed" >&2; exit 2; }
fi
gantry="$root/.build/release/gantry"
[ -x "$gantry" ] || { echo "bench: $gantry is missing (build with swift build -c release)" >&2; exit 2; }

work="$(mktemp -d /tmp/gantry-ingress-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {   # url: waits up to 20 s for any HTTP answer
  for _ in $(seq 200); do curl -s -o /dev/null -m 1 "$1" && return 0; sleep 0.1; done
  echo "bench: nothing answers on $1" >&2; return 1
}

secret="bench-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf '%s' "$secret" > "$work/secret"
# The remote names a repository that does not exist: the planner's fetch fails and backs off, so the run
# measures ingress alone; every delivery is still verified, parsed, matched and durably enqueued.
remote="$work/not-a-repository.git"
body="$work/push.json"
python3 - "$root/Tests/IngressTests/Fixtures/github/push-new-branch.json" "$remote" > "$body" <<'PY'
import json, sys
payload = json.load(open(sys.argv[1]))
payload["ref"] = "refs/heads/main"
payload["repository"]["clone_url"] = sys.argv[2]
print(json.dumps(payload, separators=(",", ":")), end="")
PY
signature="sha256=$(openssl dgst -sha256 -hmac "$secret" -r < "$body" | cut -d' ' -f1)"
echo "bench: body $(wc -c < "$body") bytes, $connections connections, $threads wrk thread(s), ${duration}s x $rounds rounds" >&2

cat > "$work/request.lua" <<'LUA'
-- POSTs the body with a delivery id unique per request (per thread, per run).
local counter, thread_id, run = 0, 0, ""
local next_thread = 0
function setup(thread) thread:set("tid", next_thread); next_thread = next_thread + 1 end
function init(args)
  local f = assert(io.open(args[1], "rb")); wrk.body = f:read("*a"); f:close()
  run = args[2]; thread_id = tid
end
function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("bench-%s-%d-%d", run, thread_id, counter)
  return wrk.format("POST", nil, nil, nil)
end
LUA

# adnanh/webhook: the GitHub signature rule, /bin/true as the command.
webhook_port="$(free_port)"
cat > "$work/hooks.json" <<JSON
[{"id": "bench", "execute-command": "/bin/true", "command-working-directory": "$work",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$secret",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$webhook_port" > "$work/webhook.log" 2>&1 &
pids+=($!)
webhook_url="http://127.0.0.1:$webhook_port/hooks/bench"

gantry_port="$(free_port)"
cat > "$work/gantry.yaml" <<YAML
server:
  listen: 127.0.0.1:$gantry_port
  dataDir: $work/gantry-data
repositories:
  - id: bench
    remote: $remote
    branch: main
    reconcile: 0
    webhook: {binding: bench, provider: github, secrets: [file:$work/secret]}
YAML
"$gantry" serve --config "$work/gantry.yaml" > "$work/gantry.log" 2>&1 &
pids+=($!)
gantry_url="http://127.0.0.1:$gantry_port/hooks/bench"

wait_http "http://127.0.0.1:$webhook_port/"
wait_http "http://127.0.0.1:$gantry_port/healthz"

# One signed request each, checked by hand before any load: both must accept it.
check() {
  curl -s -o /dev/null -w '%{http_code}' -X POST "$1" -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-GitHub-Delivery: check-$2" -H "X-Hub-Signature-256: $signature" --data-binary "@$body"
}
[ "$(check "$webhook_url" w)" = 200 ] || { echo "bench: webhook refused the signed body; see $work/webhook.log" >&2; KEEP=1; exit 1; }
[ "$(check "$gantry_url" g)" = 202 ] || { echo "bench: gantry did not accept the signed body; see $work/gantry.log" >&2; KEEP=1; exit 1; }

# run NAME URL ROUND: one wrk run; prints "rps p50_ms p99_ms"; fails on any non-2xx answer or socket error.
run() {
  local out
  out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/request.lua" \
         -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: $signature" \
         "$2" -- "$body" "$1$3$RANDOM")"
  echo "$out" > "$work/wrk-$1-$3.txt"
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "bench: $1 had errors in round $3:" >&2; grep -E 'Non-2xx|Socket errors' <<<"$out" >&2; KEEP=1; exit 1
  fi
  python3 - <<PY
import re
text = """$out"""
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f}")
PY
}

# Warm-up (not counted), then alternating rounds.
run webhook "$webhook_url" warm >/dev/null
run gantry "$gantry_url" warm >/dev/null
: > "$work/results"
for round in $(seq "$rounds"); do
  echo "webhook $(run webhook "$webhook_url" "$round")" >> "$work/results"
  echo "gantry $(run gantry "$gantry_url" "$round")" >> "$work/results"
  echo "bench: round $round done" >&2
done

enqueued="$(python3 - "$work/gantry-data/gantry.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT COUNT(*) FROM triggers").fetchone()[0])
PY
)"

python3 - "$work/results" "$connections" "$duration" "$rounds" "$enqueued" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def med(name, i): return statistics.median(float(r[i]) for r in rows if r[0] == name)
print(f"ingress on loopback: {sys.argv[2]} connections, {sys.argv[3]} s per round, median of {sys.argv[4]} rounds")
print(f"{'server':<34} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}")
for name, label in [("webhook", "adnanh/webhook 2.8 (/bin/true)"), ("gantry", "gantry (durable enqueue, 202)")]:
    print(f"{label:<34} {med(name, 1):>11.0f} {med(name, 2):>8.2f} {med(name, 3):>8.2f}")
ratio = med("gantry", 1) / med("webhook", 1)
p99 = med("gantry", 3)
print(f"gantry/webhook throughput: {ratio:.2f}x (goal >= 2x); gantry p99 {p99:.2f} ms (goal < 5 ms)")
print(f"triggers durably enqueued by gantry during the run: {sys.argv[5]}")
for name in ("webhook", "gantry"):
    print(f"  {name} rounds: " + ", ".join(f"{float(r[1]):.0f}/s p50 {r[2]} p99 {r[3]}" for r in rows if r[0] == name))
PY
