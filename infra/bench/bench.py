#!/usr/bin/env python3
"""Gantry benchmark driver: starts real release `gantry serve` processes in temp dirs and measures what the
issue promises (webhook 202 latency, push -> first stage, no-op stage cost and what function isolation adds to it,
restart -> resumed stage, push -> first stage in a monorepo of 1, 1,000 and 5,000 apps, and the idle server and
1,000 deployments suspended for an hour: memory, idle CPU and the rows one event reads; the outbox: what a
notification route adds per deployment and how fast the sender drains a backlog, beside the receiver's own floor).

Python standard library only. Every server listens on 127.0.0.1:0 (the kernel picks a free port; the server
writes the address it got to <dataDir>/listen-address), so runs never collide on ports.

Usage: python3 infra/bench/bench.py [--bin DIR] [--keep] [--quick]   (normally called by infra/bench/run.sh)
"""
import argparse
import ctypes
import datetime
import hashlib
import hmac
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REQUIRED_BINARIES = ["gantry", "gantry-supervise", "gantry-fn-wait", "gantry-fn-script-run", "gantry-fn-wait-approval"]
FINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELLED"}


class BenchError(Exception):
    """A measure could not be taken; the message says what was wrong."""


# ---------------------------------------------------------------------------------------------- statistics

def percentile(sorted_values, p):
    """Nearest-rank percentile (p in 0..100) of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return {"n": 0, "median": float("nan"), "p99": float("nan"), "min": float("nan"), "max": float("nan")}
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"n": n, "median": median, "p99": percentile(v, 99), "min": v[0], "max": v[-1]}


class Report:
    """Collects one line per measure, prints it at once, and prints the summary table at the end."""

    def __init__(self):
        self.rows = []

    def add(self, name, values_ms, target_ms=None, note=""):
        s = summarize(values_ms)
        row = dict(s, name=name, target=target_ms, note=note)
        if target_ms is None:
            row["verdict"] = "info"
        elif s["n"] == 0:
            row["verdict"] = "NO DATA"
        else:
            row["verdict"] = "ok" if s["median"] < target_ms and s["p99"] < target_ms else (
                "median ok, p99 over" if s["median"] < target_ms else "OVER")
        self.rows.append(row)
        target = f"target < {fmt(target_ms)} ms" if target_ms is not None else "(breakdown)"
        print(f"  {name}: n={s['n']} median={fmt(s['median'])} ms p99={fmt(s['p99'])} ms "
              f"min={fmt(s['min'])} ms max={fmt(s['max'])} ms  {target}  [{row['verdict']}]"
              + (f"  {note}" if note else ""), flush=True)

    def table(self):
        headers = ["measure", "n", "median ms", "p99 ms", "min ms", "max ms", "target ms", "verdict"]
        lines = [[r["name"], str(r["n"]), fmt(r["median"]), fmt(r["p99"]), fmt(r["min"]), fmt(r["max"]),
                  ("< " + fmt(r["target"])) if r["target"] is not None else "-", r["verdict"]] for r in self.rows]
        widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(headers)]
        out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
        out.append("  ".join("-" * w for w in widths))
        for l in lines:
            out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(l, widths))))
        return "\n".join(out)


def fmt(x):
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def parse_rfc3339(text):
    """`2025-01-02T03:04:05.678Z` (what the API writes) -> Unix seconds."""
    if text is None:
        return None
    t = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()


# ---------------------------------------------------------------------------------------------- processes

def run(cmd, cwd=None, env=None, check=True, capture=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True)
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {p.returncode}: {(p.stderr or '').strip()}")
    return p


class ServerRegistry:
    """Every server this driver started, so exit (normal, error, Ctrl-C, SIGTERM) stops all of them."""

    def __init__(self):
        self.servers = []
        self.lock = threading.Lock()

    def add(self, server):
        with self.lock:
            self.servers.append(server)

    def stop_all(self):
        with self.lock:
            servers = list(self.servers)
        for s in servers:
            try:
                s.stop(timeout=10)
            except Exception as e:  # cleanup must go on for the others
                print(f"warning: could not stop {s.name}: {e}", file=sys.stderr)


REGISTRY = ServerRegistry()


class Client:
    """A keep-alive HTTP/1.1 client for one server (reconnects when the server closed the connection)."""

    def __init__(self, host, port, token=None, timeout=10):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.conn = None

    def connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, auth=True):
        h = dict(headers or {})
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        for attempt in (1, 2):
            if self.conn is None:
                self.connect()
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get_json(self, path):
        status, data = self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {data[:300]!r}")
        return json.loads(data)


_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGTERM it if this driver dies, even by SIGKILL (servers are spawned only from
    the main thread, which lives until the end, so the thread-scoped death signal is the driver's)."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """One `gantry serve` child with its own config and data directory under `root`."""

    def __init__(self, name, root, bin_dir, repositories=(), function_paths=(), log_level="info", isolation=None,
                 extra_config=""):
        """isolation: functions.isolation ("required" or "off"); None: the server's default, except that a bench
        run by a user other than root turns it off (isolation needs root, and the server refuses to start
        without it unless told)."""
        self.name, self.root, self.bin_dir, self.log_level = name, root, bin_dir, log_level
        if isolation is None and os.geteuid() != 0:
            isolation = "off"
        os.makedirs(root, exist_ok=True)
        self.data_dir = os.path.join(root, "data")
        self.token = uuid.uuid4().hex
        token_file = os.path.join(root, "api-token")
        with open(token_file, "w") as f:
            f.write(self.token)
        os.chmod(token_file, 0o600)
        lines = ["server:", "  listen: 127.0.0.1:0", f"  dataDir: {self.data_dir}", "  tokens:",
                 f"    - {{name: bench, secret: 'file:{token_file}'}}"]
        if repositories:
            lines.append("repositories:")
            for r in repositories:
                lines += [f"  - id: {r['id']}", f"    remote: {r['remote']}", "    branch: main", "    webhook:",
                          f"      binding: {r['binding']}", "      provider: github",
                          f"      secrets: ['file:{r['secret_file']}']"]
        if function_paths or isolation:
            lines.append("functions:")
        if function_paths:
            lines.append("  paths: [" + ", ".join(function_paths) + "]")
        if isolation:
            lines.append(f"  isolation: {isolation}")
        self.config = os.path.join(root, "gantry.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_config)
        self.proc = None
        self.starts = 0
        self.port = None
        self.client = None
        self.log_path = None
        REGISTRY.add(self)

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "gantry.sqlite")

    @property
    def address_file(self):
        return os.path.join(self.data_dir, "listen-address")

    def spawn(self):
        """Starts the process and returns the wall-clock time just before the spawn (for restart timing)."""
        if self.proc is not None and self.proc.poll() is None:
            raise BenchError(f"{self.name} is already running")
        self.starts += 1
        self.port = None
        self.client = None
        try:
            os.remove(self.address_file)   # a stale address from the previous start would point at a dead port
        except FileNotFoundError:
            pass
        self.log_path = os.path.join(self.root, f"server-{self.starts}.log")
        log = open(self.log_path, "wb")
        env = dict(os.environ)
        env["LOG_LEVEL"] = self.log_level
        env.setdefault("GANTRY_BUILTIN_FUNCTIONS", os.path.join(REPO_ROOT, "functions"))
        t = time.time()
        # Its own session: a Ctrl-C in the terminal reaches only this driver, which then stops the servers in order.
        self.proc = subprocess.Popen([os.path.join(self.bin_dir, "gantry"), "serve", "--config", self.config],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        return t

    def check_alive(self):
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.name} exited (status {code}); log tail:\n{self.log_tail()}")

    def try_address(self):
        """Port from <dataDir>/listen-address once the server wrote it, else None."""
        if self.port is not None:
            return self.port
        try:
            with open(self.address_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        if ":" not in text:
            return None
        self.port = int(text.rsplit(":", 1)[1])
        self.client = Client("127.0.0.1", self.port, self.token)
        return self.port

    def healthy(self):
        try:
            status, _ = self.client.request("GET", "/healthz", auth=False)
            return status == 200
        except OSError:
            self.client.close()
            return False

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.check_alive()
            if self.try_address() is not None and self.healthy():
                return
            time.sleep(0.005)
        raise BenchError(f"{self.name} did not answer /healthz within {timeout}s; log tail:\n{self.log_tail()}")

    def start(self):
        t = self.spawn()
        self.wait_ready()
        return t

    def stop(self, timeout=15):
        if self.client is not None:
            self.client.close()
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"warning: {self.name} ignored SIGTERM for {timeout}s; killing its process group", file=sys.stderr)
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass
        # Anything the server left in its session (there should be nothing) goes too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return "(no log)"

    def deployment(self, deployment_id):
        return self.client.get_json(f"/api/v1/deployments/{deployment_id}")

    def find_deployment(self, application, commit, timeout=30, interval=0.01):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.check_alive()
            for d in self.client.get_json(f"/api/v1/deployments?application={application}&limit=5")["deployments"]:
                if d["commit"] == commit:
                    return d["id"]
            time.sleep(interval)
        raise BenchError(f"no deployment of {application} at {commit[:12]} after {timeout}s; log tail:\n{self.log_tail()}")

    def wait_final(self, deployment_id, timeout=120, interval=0.02):
        """Waits by reading the status column from the store (WAL: the server's writer is never blocked), then asks
        the API once: polling the API would have the server encode the whole deployment (all stages, their logs)
        every few ms, CPU taken from what is being measured."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.check_alive()
            with db_connect(self.db_path) as c:
                row = c.execute("SELECT status FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
            if row is not None and row[0] in FINAL_STATUSES:
                return self.deployment(deployment_id)
            time.sleep(interval)
        raise BenchError(f"deployment {deployment_id} not finished after {timeout}s; log tail:\n{self.log_tail()}")


def db_connect(path):
    # Only reads while a server runs (WAL: readers never block its writer).
    c = sqlite3.connect(path, timeout=10)
    c.row_factory = sqlite3.Row
    return c


# ---------------------------------------------------------------------------------------------- git fixture

def post_receive_hook(url, secret_file):
    """The same text Sources/Server/PostReceiveHook.swift writes (`gantry demo`), with Swift's escapes undone."""
    return (
        "#!/bin/bash\n"
        "# Sends each pushed ref to Gantry as a signed GitHub-style push delivery (written by `gantry demo`).\n"
        "set -u\n"
        f'url="{url}"\n'
        f"secret=$(cat '{secret_file}')\n"
        "while read -r old new ref; do\n"
        r"""  msg=$(git log -1 --format=%s "$new" 2>/dev/null | sed 's/\\/\\\\/g; s/"/\\"/g')""" "\n"
        r"""  author=$(git log -1 --format=%an "$new" 2>/dev/null | sed 's/\\/\\\\/g; s/"/\\"/g')""" "\n"
        '  deleted=false; [ "$new" = "0000000000000000000000000000000000000000" ] && deleted=true\n'
        """  body=$(printf '{"ref":"%s","before":"%s","after":"%s","deleted":%s,"repository":{"clone_url":"%s"},"""
        """"head_commit":{"id":"%s","message":"%s","author":{"name":"%s"}},"pusher":{"name":"%s"}}' \\\n"""
        '    "$ref" "$old" "$new" "$deleted" "$PWD" "$new" "$msg" "$author" "$author")\n'
        """  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)\n"""
        "  delivery=$(cat /proc/sys/kernel/random/uuid)\n"
        """  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$url" \\\n"""
        """    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $delivery" \\\n"""
        """    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body")\n"""
        '  echo "gantry: $ref -> delivery $delivery answered $code"\n'
        "done"
    )


GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@gantry.invalid",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@gantry.invalid",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")


class GitFixture:
    """A bare repository (the 'Git host') with a work clone; the hook is installed once the server's port is known."""

    def __init__(self, root, repo_id):
        self.root, self.repo_id = root, repo_id
        os.makedirs(root, exist_ok=True)
        self.bare = os.path.join(root, f"{repo_id}.git")
        self.work = os.path.join(root, f"{repo_id}-work")
        self.secret = uuid.uuid4().hex
        self.secret_file = os.path.join(root, f"{repo_id}-hook-secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret)
        os.chmod(self.secret_file, 0o600)
        self.git("init", "-q", "--bare", "--initial-branch=main", self.bare)
        self.git("init", "-q", "--initial-branch=main", self.work)
        self.git("-C", self.work, "remote", "add", "origin", self.bare)

    def repository_config(self):
        return {"id": self.repo_id, "remote": self.bare, "binding": self.repo_id, "secret_file": self.secret_file}

    @staticmethod
    def git(*args):
        return run(["git", *args], env=GIT_ENV).stdout

    def install_hook(self, url):
        hook = os.path.join(self.bare, "hooks", "post-receive")
        with open(hook, "w") as f:
            f.write(post_receive_hook(url, self.secret_file))
        os.chmod(hook, 0o755)

    def write(self, path, text):
        full = os.path.join(self.work, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def commit(self, message):
        self.git("-C", self.work, "add", "-A")
        self.git("-C", self.work, "commit", "-q", "--allow-empty", "-m", message)
        return self.git("-C", self.work, "rev-parse", "HEAD").strip()

    def push(self):
        """`git push` (its post-receive hook posts the webhook before push returns); checks the hook got a 202."""
        p = run(["git", "-C", self.work, "push", "-q", "origin", "main"], env=GIT_ENV, check=False)
        if p.returncode != 0 or "answered 202" not in p.stderr:
            raise BenchError(f"git push failed or its hook was not answered 202 (exit {p.returncode}): {p.stderr.strip()}")
        return p


def app_yaml(name, stages_yaml):
    return ("apiVersion: gantry.dev/v1\nkind: App\nspec:\n"
            f"  name: {name}\n  pipeline:\n    stages:\n" + stages_yaml)


def noop_functions(base):
    """A functions folder with `noop`: the NOOP stage runs /bin/true, the floor of a stage's cost."""
    functions_dir = os.path.join(base, "functions")
    os.makedirs(os.path.join(functions_dir, "noop"))
    with open(os.path.join(functions_dir, "noop", "function.yaml"), "w") as f:
        f.write("name: noop\nstages: [NOOP]\ncommand: [/bin/true]\ntimeout: 1m\n")
    return functions_dir


def deploy(git, server, app, stages, run):
    """Commits `app` with `stages` (and a changed file, so it is touched), pushes, waits: the finished deployment."""
    git.write(f"{app}/app.gantry.yaml", app_yaml(app, stages))
    git.write(f"{app}/run.txt", f"{run}\n")
    commit = git.commit(f"{app} run {run}")
    git.push()
    d = server.wait_final(server.find_deployment(app, commit), timeout=300)
    if d["status"] != "SUCCESS":
        raise BenchError(f"{app} on {server.name}: deployment {d['id']} ended {d['status']}: {d.get('statusReason')}; "
                         f"log tail:\n{server.log_tail()}")
    return d


def script_run_stages(count):
    return "".join('      - name: SCRIPT_RUN\n        with: {run: "true"}\n' for _ in range(count))


def noop_stages(count):
    return "".join("      - name: NOOP\n" for _ in range(count))


# ---------------------------------------------------------------------------------------------- measure 1

def signed_push(secret, commit, before, clone_url):
    body = json.dumps({
        "ref": "refs/heads/main", "before": before, "after": commit, "deleted": False,
        "repository": {"clone_url": clone_url},
        "head_commit": {"id": commit, "message": "bench push", "author": {"name": "Bench"}},
        "pusher": {"name": "bench"}}, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push",
               "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature}
    return body, headers


def send_deliveries(port, path, secret, commit, before, count, latencies, errors, barrier=None, spans=None,
                    clone_url="file:///bench/hooks.git"):
    """Sends `count` signed deliveries over one keep-alive connection; appends ms latencies (client side).
    With `barrier`, waits there after connecting so concurrent senders start together; `spans` gets the
    (start, end) of the send loop for throughput."""
    client = Client("127.0.0.1", port, token=None)
    # Bodies are signed before timing: the measure is the server's answer, not the client's HMAC.
    prepared = [signed_push(secret, commit, before, clone_url) for _ in range(count)]
    try:
        client.connect()
        if barrier is not None:
            barrier.wait(timeout=30)   # a sender that failed to connect breaks it for all
        start = time.perf_counter()
        for body, headers in prepared:
            t0 = time.perf_counter()
            status, data = client.request("POST", path, body=body, headers=headers, auth=False)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 202:
                errors.append(f"{status}: {data[:200]!r}")
        if spans is not None:
            spans.append((start, time.perf_counter()))
    finally:
        client.close()


def pending_triggers(db_path):
    with db_connect(db_path) as c:
        return c.execute("SELECT COUNT(*) FROM triggers WHERE planned_at IS NULL").fetchone()[0]


def measure_webhooks(tmp, bin_dir, report, total, threads):
    print(f"\n[1] webhook 202 latency: {total} signed GitHub push deliveries, sequential on one keep-alive "
          f"connection, then {threads} concurrent client threads", flush=True)
    git = GitFixture(os.path.join(tmp, "m1"), "hooks")
    git.write("README.md", "no applications here: the planner finds nothing to deploy\n")
    commit = git.commit("initial")
    git.git("-C", git.work, "push", "-q", "origin", "main")
    server = Server("webhook-server", os.path.join(tmp, "m1", "server"), bin_dir, [git.repository_config()])
    server.start()
    path = f"/hooks/{git.repo_id}"
    zeros = "0" * 40
    try:
        # Warm-up (connection setup, first SQLite writes), not counted.
        # The payload names the bound repository, as a Git host's does (ingress checks it).
        url = "file://" + git.bare
        send_deliveries(server.port, path, git.secret, commit, zeros, 20, [], [], clone_url=url)
        seq, errors, spans = [], [], []
        send_deliveries(server.port, path, git.secret, commit, zeros, total, seq, errors, spans=spans, clone_url=url)
        seq_wall = spans[0][1] - spans[0][0]
        if errors:
            raise BenchError(f"{len(errors)} deliveries were not answered 202, first: {errors[0]}")
        report.add("1a webhook 202, sequential keep-alive", seq, 5.0,
                   f"({total / seq_wall:.0f} req/s; planner backlog after: {pending_triggers(server.db_path)} triggers)")

        conc, errors, workers, spans = [], [], [], []
        per_thread = total // threads
        lists = [[] for _ in range(threads)]
        barrier = threading.Barrier(threads)
        for i in range(threads):
            w = threading.Thread(target=send_deliveries,
                                 args=(server.port, path, git.secret, commit, zeros, per_thread, lists[i], errors),
                                 kwargs={"barrier": barrier, "spans": spans, "clone_url": url}, daemon=True)
            w.start()
            workers.append(w)
        for w in workers:
            w.join()
        if len(spans) != threads:
            raise BenchError(f"only {len(spans)} of {threads} client threads finished: {errors[:1]}")
        conc_wall = max(e for _, e in spans) - min(b for b, _ in spans)
        for l in lists:
            conc.extend(l)
        if errors:
            raise BenchError(f"{len(errors)} concurrent deliveries were not answered 202, first: {errors[0]}")
        report.add(f"1b webhook 202, {threads} client threads", conc, 5.0,
                   f"({len(conc) / conc_wall:.0f} req/s in all)")
        # The planner really fetches: how long after the last delivery until no trigger is left pending.
        storm_end = max(e for _, e in spans)
        drain_deadline = time.perf_counter() + 120
        while pending_triggers(server.db_path) > 0 and time.perf_counter() < drain_deadline:
            time.sleep(0.05)
        left = pending_triggers(server.db_path)
        drained = time.perf_counter() - storm_end
        print(f"  planner backlog {'gone' if left == 0 else f'still {left} triggers'} {drained:.2f} s after the last "
              "delivery", flush=True)
        report.add("1c planner backlog gone after the storm", [drained * 1000], 5000.0)
        with db_connect(server.db_path) as c:
            accepted = c.execute("SELECT COUNT(*) FROM deliveries WHERE verdict = 'accepted'").fetchone()[0]
            planned, first, last = c.execute("SELECT COUNT(*), MIN(planned_at), MAX(planned_at) FROM triggers "
                                             "WHERE planned_at IS NOT NULL").fetchone()
        expected = 20 + total + per_thread * threads
        if accepted != expected:
            raise BenchError(f"store holds {accepted} accepted deliveries, expected {expected}")
        rate = f"{(planned - 1) / (last - first):.0f} triggers/s" if planned > 1 and last > first else "n/a"
        print(f"  store check: {accepted} accepted deliveries committed; the planner planned {planned} of their "
              f"triggers meanwhile ({rate}), {pending_triggers(server.db_path)} still pending", flush=True)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- measures 2, 3

def measure_push_and_stages(tmp, bin_dir, report, pushes, stage_count, runs_per_kind):
    print(f"\n[2] push -> first stage start: {pushes} x (commit, git push through the post-receive hook)", flush=True)
    base = os.path.join(tmp, "m2")
    git = GitFixture(base, "apps")
    functions_dir = noop_functions(base)
    server = Server("pipeline-server", os.path.join(base, "server"), bin_dir, [git.repository_config()],
                    function_paths=[functions_dir])
    server.start()
    git.install_hook(f"http://127.0.0.1:{server.port}/hooks/{git.repo_id}")
    try:
        git.write("push-app/app.gantry.yaml", app_yaml("push-app", script_run_stages(1)))
        git.write("push-app/counter.txt", "0\n")
        first = git.commit("push-app")
        git.push()
        server.wait_final(server.find_deployment("push-app", first))   # warm-up: first deployment, page cache

        latencies, push_ms, rows = [], [], []
        for i in range(pushes):
            git.write("push-app/counter.txt", f"{i + 1}\n")
            commit = git.commit(f"bench push {i + 1}")
            t0 = time.time()
            git.push()
            push_ms.append((time.time() - t0) * 1000)
            d = server.wait_final(server.find_deployment("push-app", commit))
            if d["status"] != "SUCCESS":
                raise BenchError(f"deployment {d['id']} ended {d['status']}: {d.get('statusReason')}")
            started = parse_rfc3339(d["stages"][0]["startedAt"])
            latencies.append((started - t0) * 1000)
            rows.append((t0, commit, d["id"]))
        report.add("2  push -> first stage startedAt", latencies, 300.0)
        report.add("2. git push duration (hook+curl+202)", push_ms)
        push_breakdown(server.db_path, rows, report)

        print(f"\n[3] stage invocation cost: {runs_per_kind} deployment(s) x {stage_count} stages, "
              "NOOP (/bin/true) and SCRIPT_RUN run: \"true\"", flush=True)
        for kind, stages in (("NOOP", noop_stages(stage_count)), ("SCRIPT_RUN", script_run_stages(stage_count))):
            app = "noop-app" if kind == "NOOP" else "script-app"
            costs, gaps, walls, totals = [], [], [], []
            for r in range(runs_per_kind):
                d = deploy(git, server, app, stages, r)
                c, g, w, total = stage_timings(server.db_path, d)
                costs += c; gaps += g; walls += w; totals.append(total)
            label = "NOOP /bin/true" if kind == "NOOP" else "SCRIPT_RUN true"
            report.add(f"3  {label}: stage completedAt-startedAt", costs, 5.0 if kind == "NOOP" else None,
                       "" if kind == "NOOP" else "(comparison)")
            report.add(f"3. {label}: gap to next stage start", gaps)
            report.add(f"3. {label}: function wall (supervisor wait4)", walls)
            print(f"     whole {stage_count}-stage deployment(s): "
                  + ", ".join(f"{t:.0f} ms" for t in totals) + f"  ({sum(totals) / len(totals) / stage_count:.1f} ms/stage)",
                  flush=True)
    finally:
        server.stop()


def measure_isolation_cost(tmp, bin_dir, report, stage_count, runs):
    """What function isolation adds to each stage: the same NOOP (/bin/true) and SCRIPT_RUN stages on a server
    with functions.isolation: off and on one with the default, required (own mount namespace, the server's paths
    hidden, private /tmp, the function user). Runs alternate between the two servers so both see the same load."""
    if os.geteuid() != 0:
        print("\n[3i] isolation cost per stage: skipped (function isolation needs root)", flush=True)
        return
    print(f"\n[3i] isolation cost per stage: {runs} x {stage_count} stages per kind on each of two servers, "
          "functions.isolation off vs required", flush=True)
    modes = ("off", "required")
    setups = {}
    try:
        for mode in modes:
            base = os.path.join(tmp, f"m3i-{mode}")
            git = GitFixture(base, "isolation")
            functions_dir = noop_functions(base)
            server = Server(f"isolation-{mode}", os.path.join(base, "server"), bin_dir, [git.repository_config()],
                            function_paths=[functions_dir], isolation=mode)
            server.start()
            git.install_hook(f"http://127.0.0.1:{server.port}/hooks/{git.repo_id}")
            setups[mode] = (git, server)
        for kind, stages in (("NOOP", noop_stages(stage_count)), ("SCRIPT_RUN", script_run_stages(stage_count))):
            app = kind.lower().replace("_", "-") + "-app"
            costs = {m: [] for m in modes}
            walls = {m: [] for m in modes}
            for r in range(runs + 1):   # run 0 warms both servers up (page cache, first invocation) and is dropped
                for mode in modes:
                    git, server = setups[mode]
                    d = deploy(git, server, app, stages, r)
                    if r == 0:
                        continue
                    c, _, w, _ = stage_timings(server.db_path, d)
                    costs[mode] += c
                    walls[mode] += w
            label = "NOOP /bin/true" if kind == "NOOP" else "SCRIPT_RUN true"
            for mode in modes:
                report.add(f"3i {label}, isolation {mode}: stage cost", costs[mode])
                report.add(f"3i {label}, isolation {mode}: function wall", walls[mode])
            added = summarize(costs["required"])["median"] - summarize(costs["off"])["median"]
            report.add(f"3i {label}: isolation adds (median difference)", [added], 1.0)
    finally:
        for _, server in setups.values():
            server.stop()


def push_breakdown(db_path, rows, report):
    """Where push -> first stage goes, from the store's own timestamps (Unix seconds, microsecond precision):
    triggers.created_at (ingress commit), deployments.created_at (planner decided, before writing sources),
    triggers.planned_at (plan committed), stages.started_at (engine leased stage 0)."""
    hook, decide, commit, engine = [], [], [], []
    with db_connect(db_path) as c:
        for t0, commit_hash, deployment_id in rows:
            r = c.execute("""
                SELECT t.created_at AS received, d.created_at AS decided, t.planned_at AS planned,
                       s.started_at AS started
                FROM deployments d JOIN stages s ON s.deployment_id = d.id AND s.idx = 0
                JOIN triggers t ON t.commit_hash = d.commit_hash AND t.kind = 'webhook'
                WHERE d.id = ?""", (deployment_id,)).fetchone()
            if r is None:
                continue
            hook.append((r["received"] - t0) * 1000)
            decide.append((r["decided"] - r["received"]) * 1000)
            commit.append((r["planned"] - r["decided"]) * 1000)
            engine.append((r["started"] - r["planned"]) * 1000)
    report.add("2. push start -> trigger committed (git+hook)", hook)
    report.add("2. trigger -> planner decided (fetch, discover)", decide)
    report.add("2. decided -> plan committed (sources, commit)", commit)
    report.add("2. plan committed -> first stage leased", engine)


LOG_WALL = re.compile(r"^gantry: attempt \d+ \w+.*\(wall (\d+) ms")


def stage_timings(db_path, detail):
    """Per-stage cost and gaps from the store (µs precision; the API shows the same values rounded to ms)."""
    with db_connect(db_path) as c:
        rows = c.execute("SELECT idx, started_at, completed_at, status FROM stages WHERE deployment_id = ? "
                         "AND rollback = 0 ORDER BY idx", (detail["id"],)).fetchall()
        walls = [int(m.group(1)) for (line,) in c.execute(
            "SELECT line FROM stage_logs WHERE deployment_id = ? ORDER BY id", (detail["id"],))
                 for m in [LOG_WALL.match(line)] if m]
    bad = [r["idx"] for r in rows if r["status"] != "SUCCESS"]
    if bad:
        raise BenchError(f"stages {bad} of {detail['id']} did not succeed")
    # Cross-check the API against the store (both must say the same to the millisecond).
    for s, r in zip(detail["stages"], rows):
        if abs(parse_rfc3339(s["startedAt"]) - r["started_at"]) > 0.0015:
            raise BenchError(f"API startedAt {s['startedAt']} disagrees with the store's {r['started_at']}")
    costs = [(r["completed_at"] - r["started_at"]) * 1000 for r in rows]
    gaps = [(b["started_at"] - a["completed_at"]) * 1000 for a, b in zip(rows, rows[1:])]
    total = (rows[-1]["completed_at"] - rows[0]["started_at"]) * 1000
    return costs, gaps, walls, total


# ---------------------------------------------------------------------------------------------- measure 4

SCRIPT_FUNCTION_LEASE = 6 * 3600 + 10 + 60   # functions/script-run: timeout 6h + gracePeriod 10s + 60 s lease slack


def seed_store(db_path, data_dir, finished, now):
    """10,000 finished deployments (3 stages, 1 log line each) over 20 applications, plus one RUNNING deployment
    whose stage 0 (SCRIPT_RUN run: "true") is RUNNING under a dead owner at attempt 1. Returns its id."""
    apps = [f"svc-{i:02d}" for i in range(20)]
    commit = hashlib.sha1(b"bench").hexdigest()
    deployments, stages, logs = [], [], []
    for i in range(finished):
        did = str(uuid.uuid4())
        created = now - (finished - i) * 60.0
        app = apps[i % len(apps)]
        deployments.append((did, i + 1, app, "bench", app, None, hashlib.sha1(str(i).encode()).hexdigest(), None,
                            "webhook", f"change {i}", "Bench", "pipeline", "Sync with the specified pipeline",
                            "SUCCESS", "", 1, created, created + 0.1, created + 2.0, created + 21600.1, 21600.0, 0, 1))
        for idx, name in enumerate(("SCRIPT_RUN", "WAIT", "SCRIPT_RUN")):
            start = created + 0.1 + idx * 0.6
            stages.append((did, idx, name, '{"run":"true"}' if name == "SCRIPT_RUN" else '{"duration":"0s"}', 0, None,
                           "SUCCESS", 1, None, None, None, None, None, None, start, start + 0.5, None, "{}", ""))
            logs.append((did, idx, 1, start + 0.5, f"gantry: attempt 1 SUCCESS (wall 12 ms, cpu 4 ms, max rss 9000 KiB)"))
    rid = str(uuid.uuid4())
    started = now - 5.0
    deployments.append((rid, finished + 1, "recover-app", "bench", "recover-app", None, commit, None, "webhook",
                        "interrupted", "Bench", "pipeline", "Sync with the specified pipeline", "RUNNING", "", 1,
                        started - 0.1, started, None, started + 21600, 21600.0, 0, 1))
    stages.append((rid, 0, "SCRIPT_RUN", '{"run":"true"}', 0, None, "RUNNING", 1, "gantry-dead-" + uuid.uuid4().hex,
                   now + 3600, None, None, None, None, started, None, None, "{}", ""))
    with sqlite3.connect(db_path) as c:
        c.executemany(f"INSERT INTO deployments (id, seq, application, repository, app_path, platform, commit_hash, "
                      "running_commit, trigger_kind, commit_message, author, strategy, summary, status, status_reason, "
                      "auto_rollback, created_at, started_at, completed_at, deadline, timeout_seconds, cancel_requested, "
                      "cancel_rollback) VALUES (" + ",".join("?" * 23) + ")", deployments)
        c.executemany("INSERT INTO stages (deployment_id, idx, name, with_json, rollback, rollback_of, status, attempt, "
                      "lease_owner, lease_expiry, resume_at, waiting_for, timeout_seconds, deadline, started_at, "
                      "completed_at, checkpoint, outputs, message) VALUES (" + ",".join("?" * 19) + ")", stages)
        c.executemany("INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line) VALUES (?, ?, ?, ?, ?)", logs)
        for app in apps + ["recover-app"]:
            c.execute("INSERT INTO applications (name, repository, path, config_file, kind, running_commit, updated_at) "
                      "VALUES (?, 'bench', ?, ?, 'App', ?, ?)", (app, app, app + "/app.gantry.yaml", commit, now))
    # The planner wrote the app's sources here when it planned the deployment; the function runs in it.
    os.makedirs(os.path.join(data_dir, "deployments", rid, "target"), exist_ok=True)
    return rid


def mark_interrupted(db_path, data_dir, deployment_id):
    """Puts the deployment back to 'stage 0 RUNNING at attempt 1 under a dead server', as it was seeded, and
    drops its log lines so each restart reads only its own. Always attempt 1: ten recoveries in a row would
    otherwise count against the function's recovery limit. The engine removed the deployment's sources when it
    finished, so they are made again. Returns the attempt the restart must lease (2)."""
    os.makedirs(os.path.join(data_dir, "deployments", deployment_id, "target"), exist_ok=True)
    with sqlite3.connect(db_path) as c:
        c.execute("UPDATE deployments SET status = 'RUNNING', status_reason = '', completed_at = NULL WHERE id = ?",
                  (deployment_id,))
        c.execute("UPDATE stages SET status = 'RUNNING', attempt = 1, lease_owner = ?, lease_expiry = ?, "
                  "completed_at = NULL, message = '', process_group = NULL, process_start = NULL, "
                  "recoveries = 0, error_type = NULL, stop_reason = NULL "
                  "WHERE deployment_id = ? AND idx = 0",
                  ("gantry-dead-" + uuid.uuid4().hex, time.time() + 3600, deployment_id))
        c.execute("DELETE FROM stage_logs WHERE deployment_id = ?", (deployment_id,))
    return 2


def measure_restart(tmp, bin_dir, report, finished, repetitions):
    print(f"\n[4] restart -> first resumed stage, {finished} finished deployments in the store, "
          f"{repetitions} restarts", flush=True)
    server = Server("restart-server", os.path.join(tmp, "m4"), bin_dir)
    server.start()          # creates and migrates the schema
    server.stop()
    t = time.time()
    rid = seed_store(server.db_path, server.data_dir, finished, time.time())
    size_mb = sum(os.path.getsize(server.db_path + x) for x in ("", "-wal") if os.path.exists(server.db_path + x)) / 1e6
    print(f"  seeded {finished} deployments ({finished * 3} stages) + 1 interrupted in {time.time() - t:.1f}s; "
          f"database {size_mb:.1f} MB", flush=True)
    health, leased, visible, running, recovered = [], [], [], [], []
    try:
        for rep in range(repetitions):
            expected = mark_interrupted(server.db_path, server.data_dir, rid)
            db = db_connect(server.db_path)
            t_spawn = server.spawn()
            t_health = t_leased = t_visible = None
            deadline = t_spawn + 30
            try:
                while time.time() < deadline and None in (t_health, t_leased, t_visible):
                    server.check_alive()
                    now = time.time()
                    if t_leased is None:
                        # The store is read directly: the engine may lease before the HTTP listener is up.
                        attempt = db.execute("SELECT attempt FROM stages WHERE deployment_id = ? AND idx = 0",
                                             (rid,)).fetchone()[0]
                        if attempt >= expected:
                            t_leased = now
                    if server.try_address() is not None:
                        if t_health is None:
                            if server.healthy():
                                t_health = time.time()
                        elif t_visible is None:
                            d = server.deployment(rid)
                            if d["stages"][0]["attempts"] >= expected:
                                t_visible = time.time()
                    time.sleep(0.005)
                if None in (t_health, t_leased, t_visible):
                    raise BenchError(f"restart {rep + 1}: resumed attempt {expected} not seen within 30s; "
                                     f"log tail:\n{server.log_tail()}")
                d = server.wait_final(rid, timeout=60)
                if d["status"] != "SUCCESS" or d["stages"][0]["attempts"] != expected:
                    raise BenchError(f"restart {rep + 1}: deployment ended {d['status']} with attempts "
                                     f"{d['stages'][0]['attempts']} (expected SUCCESS, {expected})")
                logs = db.execute("SELECT attempt, at, line FROM stage_logs WHERE deployment_id = ? AND stage_idx = 0 "
                                  "ORDER BY id", (rid,)).fetchall()
                t_recover = next((r["at"] for r in logs if r["attempt"] == expected - 1
                                  and "interrupted by a server restart" in r["line"]), None)
                t_running = next((r["at"] for r in logs if r["attempt"] == expected), None)
                if t_recover is None or t_running is None:
                    raise BenchError(f"restart {rep + 1}: stage log lacks the recovery line or attempt {expected}'s "
                                     f"first line: {[tuple(r) for r in logs[-4:]]}")
            finally:
                db.close()
                server.stop()
            health.append((t_health - t_spawn) * 1000)
            leased.append((t_leased - t_spawn) * 1000)
            visible.append((t_visible - t_spawn) * 1000)
            recovered.append((t_recover - t_spawn) * 1000)
            running.append((t_running - t_spawn) * 1000)
        report.add("4  restart -> resumed attempt leased (store)", leased, 1000.0, "(polled every 5 ms)")
        report.add("4. restart -> interrupted stage found (log)", recovered)
        report.add("4. restart -> resumed function running (log)", running)
        report.add("4. restart -> resumed attempt in API", visible)
        report.add("4. restart -> /healthz 200", health)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- main

def check_binaries(bin_dir):
    missing = [b for b in REQUIRED_BINARIES if not os.access(os.path.join(bin_dir, b), os.X_OK)]
    if missing:
        raise BenchError(f"release build missing in {bin_dir}: {', '.join(missing)} not found. "
                         f"Run `swift build -c release` in {REPO_ROOT} (or `make bench`, which builds first).")
    for tool in ("git", "curl", "openssl"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} is not installed (the post-receive hook and fixtures need it; `make deps`)")


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


# ---------------------------------------------------------------------------------------------- measure 5

def measure_monorepo(tmp, bin_dir, report, app_counts, pushes):
    """Push -> first stage start when the push touches one app of a monorepo, for each repository size in the
    same run (1 app is the floor): what planning costs should grow with the change, not with the repository."""
    for apps in app_counts:
        print(f"\n[5] monorepo of {apps} app(s): {pushes} pushes each touching one app", flush=True)
        base = os.path.join(tmp, f"m5-{apps}")
        git = GitFixture(base, "mono")
        functions_dir = noop_functions(base)
        server = Server(f"monorepo-{apps}", os.path.join(base, "server"), bin_dir, [git.repository_config()],
                        function_paths=[functions_dir])
        server.start()
        git.install_hook(f"http://127.0.0.1:{server.port}/hooks/{git.repo_id}")
        try:
            for i in range(apps):
                git.write(f"apps/app-{i:05d}/app.gantry.yaml", app_yaml(f"app-{i:05d}", noop_stages(1)))
                git.write(f"apps/app-{i:05d}/version.txt", "0\n")
            first = git.commit(f"{apps} apps")
            t = time.time()
            git.push()
            # Warm-up: every app's first deployment (their configs parsed once, the page cache warm).
            server.wait_final(server.find_deployment(f"app-{apps - 1:05d}", first, timeout=600), timeout=600)
            print(f"  first push deployed {apps} app(s) in {time.time() - t:.1f} s", flush=True)
            latencies = []
            for i in range(pushes):
                app = f"app-{(i * 7) % apps:05d}"
                git.write(f"apps/{app}/version.txt", f"{i + 1}\n")
                commit = git.commit(f"touch {app}")
                t0 = time.time()
                git.push()
                d = server.wait_final(server.find_deployment(app, commit))
                latencies.append((parse_rfc3339(d["stages"][0]["startedAt"]) - t0) * 1000)
            report.add(f"5  {apps} app(s): push touching one -> first stage", latencies, 100.0 if apps <= 1000 else 200.0)
        finally:
            server.stop()


# ---------------------------------------------------------------------------------------------- measure 7

class Receiver:
    """A webhook receiver on loopback (HTTP/1.1 keep-alive, a thread per connection) that answers 204 at once and
    records when each delivery arrived, by its webhook-id."""

    def __init__(self):
        import http.server
        arrivals, lock = [], threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    arrivals.append((time.time(), self.headers.get("webhook-id", "")))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.arrivals, self.lock = arrivals, lock
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self):
        with self.lock:
            self.arrivals.clear()

    def snapshot(self):
        with self.lock:
            return list(self.arrivals)

    def stop(self):
        self.httpd.shutdown()


def receiver_floor(port, total, connections):
    """What the receiver takes without Gantry: `total` POSTs from `connections` keep-alive clients at once, in s."""
    body = b'{"type":"DEPLOYMENT_SUCCEEDED"}'
    def post(count):
        c = Client("127.0.0.1", port)
        for _ in range(count):
            status, _ = c.request("POST", "/", body=body, headers={"Content-Type": "application/json"}, auth=False)
            if status != 204:
                raise BenchError(f"the receiver answered {status}")
        c.close()
    threads = [threading.Thread(target=post, args=(total // connections,)) for _ in range(connections)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.time() - t0


def outbox_counts(db_path):
    with db_connect(db_path) as c:
        return {row[0]: row[1] for row in c.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}


def wait_outbox_sent(server, total, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        server.check_alive()
        counts = outbox_counts(server.db_path)
        if counts.get("sent", 0) >= total:
            return
        if counts.get("failed", 0):
            raise BenchError(f"outbox rows dead-lettered: {counts}; log tail:\n{server.log_tail()}")
        time.sleep(0.02)
    raise BenchError(f"outbox not drained after {timeout}s: {outbox_counts(server.db_path)}")


def wait_all_final(server, count, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        server.check_alive()
        with db_connect(server.db_path) as c:
            done = c.execute("SELECT COUNT(*) FROM deployments WHERE status IN ('SUCCESS', 'FAILURE', 'CANCELLED')").fetchone()[0]
        if done >= count:
            return
        time.sleep(0.02)
    raise BenchError(f"{count} deployments not final after {timeout}s; log tail:\n{server.log_tail()}")


def seed_outbox(db_path, rows, pairs):
    """`rows` pending rows spread over `pairs` deployments, each a copy of a row the server wrote and sent itself."""
    with sqlite3.connect(db_path, timeout=10) as c:
        target, payload = c.execute("SELECT target, payload FROM outbox WHERE status = 'sent' LIMIT 1").fetchone()
        now = time.time()
        c.executemany(
            "INSERT INTO outbox (idempotency_key, target, deployment_id, seq, payload, status, attempts, next_attempt_at, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            [(f"seed_{n}", target, f"seed-pair-{n % pairs}", n // pairs + 1, payload, now, now) for n in range(rows)])


def measure_outbox(tmp, bin_dir, report, apps, seeded, pairs):
    """The outbox's cost: a push deploying `apps` apps with and without a notification route to a webhook receiver
    (what the rows add per deployment), and the sender draining `seeded` pending rows in `pairs` ordered pairs,
    side by side with what the receiver takes from 8 plain keep-alive clients."""
    print(f"\n[7] outbox: a push of {apps} apps with and without notifications; {seeded} rows drained", flush=True)
    receiver = Receiver()
    base = os.path.join(tmp, "m7")
    secret_file = os.path.join(base, "signing-secret")
    os.makedirs(base, exist_ok=True)
    with open(secret_file, "w") as f:
        f.write("whsec_" + "YmVuY2ggc2lnbmluZyBrZXkgb2YgMjQgYnl0ZXM=")
    notifications = ("notifications:\n  routes:\n    - {name: all, receiver: bench}\n  receivers:\n"
                     f"    - name: bench\n      webhook: {{url: 'http://127.0.0.1:{receiver.port}/hook', "
                     f"secret: 'file:{secret_file}'}}\n")
    try:
        elapsed, server = {}, None
        for notify in (False, True):
            label = "with" if notify else "without"
            git = GitFixture(os.path.join(base, label), "outbox")
            functions_dir = noop_functions(os.path.join(base, label))
            server = Server(f"outbox-{label}", os.path.join(base, label, "server"), bin_dir, [git.repository_config()],
                            function_paths=[functions_dir], extra_config=notifications if notify else "")
            server.start()
            git.install_hook(f"http://127.0.0.1:{server.port}/hooks/{git.repo_id}")
            for i in range(apps):
                git.write(f"apps/app-{i:04d}/app.gantry.yaml", app_yaml(f"app-{i:04d}", noop_stages(1)))
            git.commit(f"{apps} apps")
            receiver.reset()
            t0 = time.time()
            git.push()
            wait_all_final(server, apps)
            elapsed[notify] = time.time() - t0
            if notify:
                total = sum(outbox_counts(server.db_path).values())
                wait_outbox_sent(server, total)
                arrivals = receiver.snapshot()
                span = max(a for a, _ in arrivals) - t0
                print(f"  {total} rows ({total / apps:.1f} per deployment), all delivered {span:.2f} s after the push",
                      flush=True)
                break
            server.stop()
        report.add(f"7  push of {apps} apps -> all final, no notifications", [elapsed[False] * 1000])
        report.add(f"7  push of {apps} apps -> all final, webhook route on every event", [elapsed[True] * 1000],
                   note=f"+{(elapsed[True] - elapsed[False]) * 1000 / apps:.1f} ms per deployment")

        # The sender alone: rows already pending when it starts.
        server.stop()
        seed_outbox(server.db_path, seeded, pairs)
        receiver.reset()
        server.start()
        wait_outbox_sent(server, seeded + total)
        arrivals = sorted(a for a, _ in receiver.snapshot())
        drain = arrivals[-1] - arrivals[0]
        floor = receiver_floor(receiver.port, seeded, 8)
        report.add(f"7  outbox drain of {seeded} rows in {pairs} pairs (first -> last arrival)", [drain * 1000],
                   note=f"{seeded / drain:.0f} rows/s")
        report.add(f"7  floor: the same {seeded} POSTs from 8 keep-alive clients", [floor * 1000],
                   note=f"{seeded / floor:.0f} req/s")
        server.stop()
    finally:
        receiver.stop()


# ---------------------------------------------------------------------------------------------- measure 6

def proc_stats(pid):
    """(cpu seconds used so far, resident MiB) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return cpu, rss / 1024.0


def metric_total(server, name):
    """A counter's value from /metrics (summed over its labels); None when the build does not count it."""
    status, data = server.client.request("GET", "/metrics", auth=False)
    values = [float(l.rsplit(" ", 1)[1]) for l in data.decode().splitlines()
              if l.startswith(name + " ") or l.startswith(name + "{")]
    return sum(values) if values else None


def seed_suspended(db_path, count, now):
    """`count` RUNNING deployments of as many applications, each with one WAIT stage suspended for an hour."""
    with sqlite3.connect(db_path) as c:
        for i in range(count):
            did, app = f"waiting-{i:05d}", f"app-{i:05d}"
            c.execute("INSERT INTO deployments (id, seq, application, repository, app_path, commit_hash, trigger_kind, "
                      "commit_message, author, strategy, summary, status, status_reason, auto_rollback, created_at, "
                      "started_at, deadline, timeout_seconds) VALUES (?, ?, ?, 'bench', ?, ?, 'webhook', 'seed', "
                      "'Bench', 'pipeline', 'seeded', 'RUNNING', '', 1, ?, ?, ?, 21600)",
                      (did, i + 1, app, app, hashlib.sha1(app.encode()).hexdigest(), now, now, now + 21600))
            c.execute("INSERT INTO stages (deployment_id, idx, name, with_json, rollback, status, attempt, resume_at, "
                      "started_at, outputs, message) VALUES (?, 0, 'WAIT', '{\"duration\":\"1h\"}', 0, 'SUSPENDED', 1, ?, ?, "
                      "'{}', '')", (did, now + 3600, now))
            c.execute("INSERT INTO applications (name, repository, path, config_file, kind, updated_at) "
                      "VALUES (?, 'bench', ?, ?, 'App', ?)", (app, app, app + "/app.gantry.yaml", now))


def measure_waiting(tmp, bin_dir, report, count, idle_seconds):
    print(f"\n[6] idle server, then {count} deployments suspended in WAIT 1h: RSS, idle CPU, rows read per event",
          flush=True)
    server = Server("waiting-server", os.path.join(tmp, "m6"), bin_dir)
    server.start()
    time.sleep(1)    # start-up work (function catalog, isolation probe) is over
    _, idle_rss = proc_stats(server.proc.pid)
    report.add("6a idle server RSS (MiB, not ms)", [idle_rss], 30.0)
    server.stop()
    seed_suspended(server.db_path, count, time.time())
    try:
        server.start()
        time.sleep(2)
        cpu0, _ = proc_stats(server.proc.pid)
        reads0 = metric_total(server, "gantry_engine_deployments_read_total")
        time.sleep(idle_seconds)
        cpu1, rss = proc_stats(server.proc.pid)
        reads1 = metric_total(server, "gantry_engine_deployments_read_total")
        report.add(f"6b {count} suspended: RSS (MiB, not ms)", [rss], 60.0)
        report.add(f"6c {count} suspended: idle CPU (% of a core, not ms)",
                   [100.0 * (cpu1 - cpu0) / idle_seconds], 0.5,
                   f"(deployment rows read while idle {idle_seconds} s: "
                   f"{'not counted by this build' if reads0 is None else int(reads1 - reads0)})")
        t0 = time.time()
        status, body = server.client.request("POST", f"/api/v1/deployments/waiting-{count // 2:05d}/cancel",
                                             body=b'{"rollback": false}', headers={"Content-Type": "application/json"})
        if status != 202:
            raise BenchError(f"cancel answered {status}: {body[:200]!r}")
        server.wait_final(f"waiting-{count // 2:05d}")
        latency = (time.time() - t0) * 1000
        reads2 = metric_total(server, "gantry_engine_deployments_read_total")
        report.add(f"6d {count} suspended: cancel one -> CANCELLED", [latency], 100.0,
                   f"(deployment rows read for it: {'not counted' if reads1 is None else int(reads2 - reads1)})")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(REPO_ROOT, ".build", "release"),
                        help="directory with the release binaries (default: .build/release)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (configs, repos, server logs)")
    parser.add_argument("--quick", action="store_true", help="smaller counts, for trying the driver out")
    parser.add_argument("--only", default="1234567", help="which measures to run, e.g. --only 24")
    parser.add_argument("--monorepo-apps", default="1,1000,5000",
                        help="repository sizes for measure 5, comma-separated (1 is the floor)")
    args = parser.parse_args()

    # Ctrl-C, SIGTERM (e.g. a CI timeout) and SIGHUP all unwind the same way, so the finally below stops every
    # server. Installed explicitly: a shell starting this in the background would otherwise leave SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    bin_dir = os.path.abspath(args.bin)
    try:
        check_binaries(bin_dir)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    q = args.quick
    report = Report()
    tmp = tempfile.mkdtemp(prefix="gantry-bench-")
    ok = interrupted = False
    started = time.time()
    try:
        print(f"gantry bench: binaries {bin_dir}, work dir {tmp}, {os.cpu_count()} CPUs", flush=True)
        if "1" in args.only:
            measure_webhooks(tmp, bin_dir, report, total=200 if q else 2000, threads=8)
        if "2" in args.only or "3" in args.only:
            measure_push_and_stages(tmp, bin_dir, report, pushes=5 if q else 30, stage_count=10 if q else 50,
                                    runs_per_kind=1 if q else 2)
        if "3" in args.only:
            measure_isolation_cost(tmp, bin_dir, report, stage_count=10 if q else 50, runs=2 if q else 4)
        if "4" in args.only:
            measure_restart(tmp, bin_dir, report, finished=1000 if q else 10000, repetitions=3 if q else 10)
        if "5" in args.only:
            measure_monorepo(tmp, bin_dir, report, [int(n) for n in args.monorepo_apps.split(",")],
                             pushes=5 if q else 20)
        if "6" in args.only:
            measure_waiting(tmp, bin_dir, report, count=200 if q else 1000, idle_seconds=5 if q else 10)
        if "7" in args.only:
            measure_outbox(tmp, bin_dir, report, apps=20 if q else 100, seeded=500 if q else 5000, pairs=50)
        ok = True
    except BenchError as e:
        print(f"\nbench failed: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping servers", file=sys.stderr)
        interrupted = True
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)   # a second Ctrl-C must not cut the cleanup short
        REGISTRY.stop_all()
        if report.rows:
            print(f"\nSummary ({time.time() - started:.0f} s; ms; verdict compares median and p99 with the target):")
            print(report.table())
        if args.keep or not (ok or interrupted):
            print(f"\nwork dir kept for inspection (configs, repos, server logs): {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
