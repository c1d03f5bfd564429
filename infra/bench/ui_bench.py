#!/usr/bin/env python3
"""Web UI render time with a large history: seeds N deployments (default 10,000, 5 stages and 12 log lines each,
over 20 applications and 90 days) into a real gantry data dir, starts `gantry serve` on it, logs in through the
login form, and requests each page R times. Prints the server's own time per page (its `Server-Timing: app;dur=`
header: from request to response head, HTTP parsing excluded) and the client's wall time over loopback.
Target: every page under 50 ms server time at p95.

Usage: python3 infra/bench/ui_bench.py [--bin .build/release] [--deployments 10000] [--requests 40]
Python standard library only."""
import argparse, http.cookiejar, json, os, random, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time
import urllib.parse, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def start(binary, config, data):
    log = open(os.path.join(os.path.dirname(config), "server.log"), "ab")
    address_file = os.path.join(data, "listen-address")
    if os.path.exists(address_file):
        os.remove(address_file)
    env = dict(os.environ, GANTRY_BUILTIN_FUNCTIONS=os.path.join(ROOT, "functions"), LOG_LEVEL="warning")
    process = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=log, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit("gantry exited; see " + log.name)
        if os.path.exists(address_file):
            address = open(address_file).read().strip()
            try:
                urllib.request.urlopen(f"http://{address}/healthz", timeout=2)
                return process, "http://" + address
            except OSError:
                pass
        time.sleep(0.05)
    sys.exit("gantry did not start")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def seed(database, count, now):
    rng = random.Random(6)
    db = sqlite3.connect(database)
    apps = [f"app-{i:02d}" for i in range(20)]
    for i, name in enumerate(apps):
        db.execute("INSERT INTO applications (name, repository, path, config_file, kind, running_commit, last_triggered_commit,"
                   " updated_at, labels) VALUES (?, 'bench', ?, ?, 'App', ?, ?, ?, ?)",
                   (name, name, name + "/app.gantry.yaml", "%040x" % i, "%040x" % i, now, json.dumps({"team": f"t{i % 4}"})))
    deployments, stages, logs = [], [], []
    names = ["SCRIPT_RUN", "WAIT", "WAIT_APPROVAL", "SCRIPT_RUN", "SCRIPT_RUN_ROLLBACK"]
    for seq in range(1, count + 1):
        app = apps[seq % len(apps)]
        created = now - 90 * 86400 + seq * (90 * 86400 / count)
        status = rng.choices(["SUCCESS", "FAILURE", "CANCELLED"], [85, 10, 5])[0]
        ident = f"bench-{seq:06d}"
        deployments.append((ident, seq, app, "bench", app, "%040x" % seq, "webhook", f"change {seq}", "bench", "pipeline",
                            "", status, "", 1, created, created + 1, created + 300, 21600.0, created - 900))
        for idx, name in enumerate(names):
            stages.append((ident, idx, name, "{}", 1 if idx == 4 else 0, 3 if idx == 4 else None,
                           "SKIPPED" if idx == 4 else status if idx == 3 else "SUCCESS", 1, created + idx * 60,
                           created + idx * 60 + 30, "{}", "done"))
            if idx < 4:
                for n in range(3):
                    logs.append((ident, idx, 1, created + idx * 60 + n, f"{name} line {n} of deployment {seq}"))
    db.executemany("INSERT INTO deployments (id, seq, application, repository, app_path, commit_hash, trigger_kind,"
                   " commit_message, author, strategy, summary, status, status_reason, auto_rollback, created_at, started_at,"
                   " completed_at, timeout_seconds, commit_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", deployments)
    db.executemany("INSERT INTO stages (deployment_id, idx, name, with_json, rollback, rollback_of, status, attempt,"
                   " started_at, completed_at, outputs, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", stages)
    db.executemany("INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line) VALUES (?,?,?,?,?)", logs)
    db.commit()
    db.close()
    return f"bench-{count:06d}", apps[count % len(apps)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--deployments", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    binary = os.path.join(args.bin, "gantry")
    if not os.path.exists(binary):
        sys.exit(f"no {binary}: build it first (swift build -c release)")

    root = tempfile.mkdtemp(prefix="gantry-ui-bench-")
    data = os.path.join(root, "data")
    password = "bench-password"
    hashed = subprocess.run([binary, "hash-password"], input=password + "\n", capture_output=True, text=True, check=True).stdout.strip()
    config = os.path.join(root, "gantry.yaml")
    with open(config, "w") as f:
        f.write(f"server:\n  listen: 127.0.0.1:0\n  dataDir: {data}\n  tokens:\n    - {{name: bench, secret: bench-token}}\n"
                f"users:\n  - {{name: admin, passwordHash: '{hashed}', role: admin}}\n")
    try:
        process, _ = start(binary, config, data)      # creates and migrates the database
        stop(process)
        t0 = time.time()
        latest, app = seed(os.path.join(data, "gantry.sqlite"), args.deployments, time.time())
        print(f"seeded {args.deployments} deployments ({args.deployments * 5} stages, {args.deployments * 12} log lines) "
              f"in {time.time() - t0:.1f}s")
        process, base = start(binary, config, data)
        try:
            jar = http.cookiejar.CookieJar()

            class NoRedirect(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *a, **k):
                    return None

            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
            form = opener.open(base + "/login").read().decode()
            csrf = re.search(r'name="_csrf" value="([^"]+)"', form).group(1)
            body = urllib.parse.urlencode({"_csrf": csrf, "username": "admin", "password": password, "next": "/applications"})
            try:
                opener.open(base + "/login", data=body.encode())
            except urllib.error.HTTPError as answer:
                if answer.code != 303:
                    raise
            pages = [("applications", "/applications"), ("application detail", f"/applications/{app}"),
                     ("deployment detail", f"/deployments/{latest}"), ("deliveries", "/deliveries"),
                     ("insights (day, 14 days)", "/insights"), ("insights (month, 12 months)", "/insights?period=month"),
                     ("tokens", "/tokens")]
            api = [("GET /api/v1/insights?period=week", "/api/v1/insights?period=week")]
            print(f"{'page':32} {'server p50':>11} {'server p95':>11} {'server max':>11} {'client p50':>11}   (ms, {args.requests} requests)")
            worst = 0.0
            for label, path in pages + api:
                server_ms, client_ms = [], []
                for _ in range(args.requests):
                    request = urllib.request.Request(base + path)
                    if path.startswith("/api/"):
                        request.add_header("Authorization", "Bearer bench-token")
                    t = time.perf_counter()
                    with opener.open(request) as answer:
                        answer.read()
                        if answer.status != 200:
                            sys.exit(f"{path}: HTTP {answer.status}")
                        timing = answer.headers.get("Server-Timing", "")
                    client_ms.append((time.perf_counter() - t) * 1000)
                    server_ms.append(float(re.search(r"dur=([0-9.]+)", timing).group(1)))
                server_ms.sort(); client_ms.sort()
                p95 = server_ms[int(0.95 * (len(server_ms) - 1))]
                worst = max(worst, p95)
                print(f"{label:32} {server_ms[len(server_ms) // 2]:11.2f} {p95:11.2f} {server_ms[-1]:11.2f} "
                      f"{client_ms[len(client_ms) // 2]:11.2f}")
            print(f"worst p95 server time: {worst:.2f} ms (target < 50 ms): {'OK' if worst < 50 else 'OVER TARGET'}")
        finally:
            stop(process)
    finally:
        if args.keep:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
