#!/usr/bin/env python3
"""Gantry replicas on one PostgreSQL, next to SQLite on one replica (`make bench-replicas`).

Prints, per setup (sqlite x1, postgres x1, x2, x3):
  ingest   webhook deliveries/s and p99 latency (signed GitHub pushes to a branch nobody deploys: each one is a
           committed delivery row and a 2xx), sent round-robin to the replicas by 32 keep-alive clients;
  stages   no-op stage throughput: one push plans APPS pipelines of STAGES `SCRIPT_RUN: true` stages; stages/s from
           the first stage start to the last stage end, and the replicas that ran them;
  failover (postgres x2) kill -9 of the replica running a stage -> the stage's re-invocation on the other, against
           the lease (server.leaseDuration, default 10 s).
Real processes only: a throwaway PostgreSQL 15 cluster (fsync on, its defaults), real `gantry serve`, real git.
"""
import argparse, concurrent.futures, hashlib, hmac, http.client, json, os, shutil, signal, socket, subprocess
import sys, tempfile, threading, time, uuid

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def as_postgres(args):
    return (["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []) + args


class Postgres:
    def __init__(self, root):
        self.root, self.dir, self.port = root, os.path.join(root, "pg"), free_port()
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", root], check=True)
        subprocess.run(as_postgres([PG_BIN + "/initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.dir, "-l", root + "/pg.log", "-w", "-o",
                                    f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300", "start"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def database(self):
        name = "bench_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc", f"CREATE DATABASE {name}"],
                       check=True)
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def stats(self, url):
        """Commits and rows read/written so far in the database of `url` (pg_stat_database)."""
        name = url.rsplit("/", 1)[1]
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-Atc",
                              "SELECT pg_stat_clear_snapshot(); SELECT xact_commit, tup_returned + tup_fetched, "
                              f"tup_inserted + tup_updated FROM pg_stat_database WHERE datname = '{name}'"],
                             check=True, capture_output=True, text=True).stdout.strip().split("\n")[-1]
        return [int(x) for x in out.split("|")]

    def stop(self):
        subprocess.run(as_postgres([PG_BIN + "/pg_ctl", "-D", self.dir, "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class Replica:
    def __init__(self, root, bin_dir, name, database, repo, secret_file, lease):
        self.root, self.port = os.path.join(root, name), free_port()
        os.makedirs(self.root)
        db = f"  database: {database}\n" if database else ""
        with open(self.root + "/gantry.yaml", "w") as f:
            f.write(f"server:\n  listen: 127.0.0.1:{self.port}\n  dataDir: {self.root}/data\n{db}  leaseDuration: {lease}\n"
                    f"repositories:\n  - id: bench\n    remote: {repo}\n    branch: main\n    reconcile: '0'\n"
                    f"    webhook: {{binding: bench, provider: github, secrets: ['file:{secret_file}']}}\n")
        env = dict(os.environ, LOG_LEVEL="warning")
        self.log = open(self.root + "/server.log", "wb")
        self.proc = subprocess.Popen([bin_dir + "/gantry", "serve", "--config", self.root + "/gantry.yaml", "--replica-id", name],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.name = name
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{name} exited: " + open(self.root + "/server.log").read()[-2000:])
            try:
                if self.get("/healthz")[0] == 200: return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"{name} did not start")

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", path); r = c.getresponse(); body = r.read(); c.close()
        return r.status, (json.loads(body) if body else {})

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try: self.proc.wait(20)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()


def percentile(values, p):
    v = sorted(values); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ingest(replicas, secret, total, clients=32):
    body_tpl = '{"ref":"refs/heads/other","before":"%s","after":"%s","repository":{},"head_commit":{"id":"%s","message":"m","author":{"name":"b"}}}'
    per_client = total // clients
    latencies, lock = [], threading.Lock()

    def worker(i):
        r = replicas[i % len(replicas)]
        c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
        mine = []
        for _ in range(per_client):
            after = uuid.uuid4().hex + "00000000"
            body = (body_tpl % ("0" * 40, after, after)).encode()
            sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            t = time.perf_counter()
            c.request("POST", "/hooks/bench", body, {"Content-Type": "application/json", "X-GitHub-Event": "push",
                                                     "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sig})
            resp = c.getresponse(); resp.read()
            if resp.status // 100 != 2: raise RuntimeError(f"ingest answered {resp.status}")
            mine.append((time.perf_counter() - t) * 1000)
        c.close()
        with lock: latencies.extend(mine)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - t0
    return len(latencies) / elapsed, percentile(latencies, 99)


def stage_throughput(replicas, work, apps, stages):
    for a in range(apps):
        os.makedirs(f"{work}/app{a}", exist_ok=True)
        with open(f"{work}/app{a}/app.gantry.yaml", "w") as f:
            f.write("apiVersion: gantry.dev/v1\nspec:\n  name: app%d\n  pipeline:\n    stages:\n" % a
                    + "".join("      - {name: SCRIPT_RUN, with: {run: 'true'}}\n" for _ in range(stages)))
    git("add", "-A", cwd=work); git("commit", "-qm", "apps", cwd=work); git("push", "-q", "origin", "main", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    deadline = time.time() + 600
    while time.time() < deadline:
        ds = [d for d in replicas[0].get("/api/v1/deployments?limit=1000")[1].get("deployments", []) if d["commit"] == commit]
        if len(ds) == apps and all(d["status"] in ("SUCCESS", "FAILURE", "CANCELLED") for d in ds): break
        time.sleep(0.2)
    else:
        sys.exit("stages did not finish in 10 minutes")
    starts = [s["startedAt"] for d in ds for s in d["stages"] if s.get("startedAt")]
    ends = [s["completedAt"] for d in ds for s in d["stages"] if s.get("completedAt")]
    parse = lambda t: time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + (t[20:].rstrip("Z").split("+")[0] or "0"))
    span = max(map(parse, ends)) - min(map(parse, starts))
    ok = sum(1 for d in ds if d["status"] == "SUCCESS")
    return apps * stages / span, span, ok


def failover(replicas, work, marks):
    os.makedirs(f"{work}/hold", exist_ok=True)
    with open(f"{work}/hold/app.gantry.yaml", "w") as f:
        f.write("apiVersion: gantry.dev/v1\nspec:\n  name: hold\n  pipeline:\n    stages:\n      - name: SCRIPT_RUN\n"
                f"        with: {{run: 'echo \"$GANTRY_REPLICA $GANTRY_ATTEMPT $(date +%s.%N)\" >> {marks}/hold; sleep 600'}}\n")
    git("add", "-A", cwd=work); git("commit", "-qm", "hold", cwd=work); git("push", "-q", "origin", "main", cwd=work)
    lines = lambda: open(f"{marks}/hold").read().split("\n")[:-1] if os.path.exists(f"{marks}/hold") else []
    while not lines(): time.sleep(0.01)
    holder = lines()[0].split()[0]
    victim = next(r for r in replicas if r.name == holder)
    killed = time.time()
    victim.stop(signal.SIGKILL)
    while len(lines()) < 2: time.sleep(0.01)
    return float(lines()[1].split()[2]) - killed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--deliveries", type=int, default=4000)
    ap.add_argument("--apps", type=int, default=30)
    ap.add_argument("--stages", type=int, default=5)
    ap.add_argument("--lease", default="10s")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="gantry-bench-replicas-")
    os.chmod(root, 0o755)
    os.makedirs(root + "/cluster")
    pg = Postgres(root + "/cluster")
    rows, costs = [], []
    try:
        for kind, count in [("sqlite", 1), ("postgres", 1), ("postgres", 2), ("postgres", 3)]:
            setup = f"{root}/{kind}-{count}"
            os.makedirs(setup)
            bare, work, secret_file, marks = f"{setup}/repo.git", f"{setup}/work", f"{setup}/secret", f"{setup}/marks"
            os.makedirs(marks)
            secret = uuid.uuid4().hex
            open(secret_file, "w").write(secret)
            git("init", "-q", "--bare", "--initial-branch=main", bare)
            git("init", "-q", "--initial-branch=main", work)
            git("-C", work, "config", "user.email", "b@x"); git("-C", work, "config", "user.name", "b")
            git("-C", work, "remote", "add", "origin", bare)
            db = pg.database() if kind == "postgres" else None
            reps = [Replica(setup, args.bin, f"r{i}", db, bare, secret_file, args.lease) for i in range(count)]
            # Pushes reach a replica through the post-receive hook as a real host's webhook would.
            hook = f"{bare}/hooks/post-receive"
            open(hook, "w").write(f"#!/bin/sh\nwhile read old new ref; do body='{{\"ref\":\"'$ref'\",\"before\":\"'$old'\",\"after\":\"'$new'\",\"repository\":{{}},\"head_commit\":{{\"id\":\"'$new'\",\"message\":\"m\",\"author\":{{\"name\":\"b\"}}}}}}'; "
                                  f"sig=$(printf %s \"$body\" | openssl dgst -sha256 -hmac '{secret}' | sed 's/.*= //'); "
                                  f"curl -s -o /dev/null -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H \"X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)\" -H \"X-Hub-Signature-256: sha256=$sig\" --data-binary \"$body\" http://127.0.0.1:{reps[0].port}/hooks/bench; done\n")
            os.chmod(hook, 0o755)
            rps, p99 = ingest(reps, secret, args.deliveries)
            before = pg.stats(db) if db else None
            sps, span, ok = stage_throughput(reps, work, args.apps, args.stages)
            if db:
                time.sleep(1)   # pg_stat_database is updated by the backends about once a second
                after = pg.stats(db)
                per = [(a - b) / (args.apps * args.stages) for a, b in zip(after, before)]
                costs.append(f"{kind} x{count}: per stage {per[0]:.1f} commits, {per[1]:.0f} rows read, {per[2]:.1f} rows written")
            fo = failover(reps, work, marks) if kind == "postgres" and count == 2 else None
            rows.append((f"{kind} x{count}", rps, p99, sps, span, ok, fo))
            for r in reps: r.stop()
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'setup':<12} {'ingest req/s':>12} {'p99 ms':>8} {'stages/s':>9} {'span s':>7} {'deploys ok':>10} {'failover s':>10}")
    for name, rps, p99, sps, span, ok, fo in rows:
        print(f"{name:<12} {rps:>12.0f} {p99:>8.1f} {sps:>9.1f} {span:>7.2f} {ok:>10} {('%.2f' % fo) if fo else '-':>10}")
    for c in costs: print(c)
    print(f"(deliveries {args.deliveries} over 32 clients; {args.apps} apps x {args.stages} no-op SCRIPT_RUN stages; lease {args.lease})")


if __name__ == "__main__":
    main()
