#!/usr/bin/env python3
"""Cost of the lambda function's stages against moto_server on loopback (`make bench-lambda`).

Each round deploys a new code version through LAMBDA_CANARY_ROLLOUT, LAMBDA_PROMOTE 10 and 100 and ROLLBACK, then
another with LAMBDA_SYNC, each stage as one real invocation of gantry-fn-lambda with an event on stdin (as the
function host runs it, minus the host). Prints the median and p99 wall time per stage in ms.
moto answers one call in about 3 ms; the rest is the function's own cost: process start, YAML, zip, SigV4,
HTTP. Usage: python3 infra/bench/lambda_bench.py [--bin .build/release] [--rounds 20]
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_server did not start (pip install 'moto[server]')")


def create_role(port):
    body = ("Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument=%7B%7D").encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"})
    text = urllib.request.urlopen(req).read().decode()
    return text.split("<Arn>")[1].split("</Arn>")[0]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(root, ".build", "release"))
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    exe = os.path.join(args.bin, "gantry-fn-lambda")
    if not os.access(exe, os.X_OK):
        sys.exit(f"{exe} is not built (swift build -c release, or --bin .build/debug)")
    moto, port = start_moto()
    work = tempfile.mkdtemp(prefix="lambda-bench-")
    try:
        role = create_role(port)
        app = os.path.join(work, "app")
        os.makedirs(os.path.join(app, "src"))
        with open(os.path.join(app, "app.pipecd.yaml"), "w") as f:
            f.write("apiVersion: pipecd.dev/v1beta1\nkind: LambdaApp\nspec:\n  name: bench\n")
        with open(os.path.join(app, "function.yaml"), "w") as f:
            f.write(f"apiVersion: pipecd.dev/v1beta1\nkind: LambdaFunction\nspec:\n  name: bench\n  role: {role}\n"
                    "  runtime: python3.12\n  handler: app.handler\n  source: {path: src}\n  memory: 128\n  timeout: 10\n")
        for i in range(50):   # a small but not trivial package: 50 files, ~200 KiB
            with open(os.path.join(app, "src", f"mod{i}.py"), "w") as f:
                f.write(f"# module {i}\n" + "x = 1\n" * 700)
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8",
               "AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
        platform = {"name": "moto", "kind": "lambda", "region": "us-east-1",
                    "endpoint": f"http://127.0.0.1:{port}", "credentials": "env"}

        def invoke(stage, deployment, index, with_=None):
            event = {"protocol": 1,
                     "invocation": {"id": f"{deployment}-{index}", "key": f"{deployment}-{index}", "attempt": 1,
                                    "deadline": "2099-01-01T00:00:00Z"},
                     "deployment": {"id": deployment, "application": "bench", "commit": "0" * 40, "runningCommit": None,
                                    "trigger": {"kind": "webhook", "commitMessage": "bench", "author": "bench"}},
                     "stage": {"index": index, "name": stage, "with": with_ or {}, "rollback": stage == "ROLLBACK"},
                     "checkpoint": None, "sources": {"target": app, "running": None}, "platform": platform}
            started = time.perf_counter()
            out = subprocess.run([exe], input=json.dumps(event).encode(), env=env, capture_output=True)
            elapsed = (time.perf_counter() - started) * 1000
            last = out.stdout.decode().strip().splitlines()[-1]
            if '"succeeded"' not in last:
                sys.exit(f"{stage} failed: {last}\n{out.stderr.decode()}")
            return elapsed

        timings = {}
        invoke("LAMBDA_SYNC", "warmup", 0)
        for r in range(args.rounds):
            with open(os.path.join(app, "src", "app.py"), "w") as f:
                f.write(f"def handler(e, c):\n    return {r}\n")
            d = f"bench-{r}"
            for stage, index, with_ in [("LAMBDA_CANARY_ROLLOUT", 0, None), ("LAMBDA_PROMOTE", 1, {"percent": 10}),
                                        ("LAMBDA_PROMOTE", 2, {"percent": 100}), ("ROLLBACK", 3, None)]:
                key = stage + (f" {with_['percent']}" if with_ else "")
                timings.setdefault(key, []).append(invoke(stage, d, index, with_))
            with open(os.path.join(app, "src", "app.py"), "a") as f:
                f.write("# sync\n")
            timings.setdefault("LAMBDA_SYNC", []).append(invoke("LAMBDA_SYNC", d + "-sync", 0))
        print(f"gantry-fn-lambda against moto_server, {args.rounds} rounds, binary {exe}:")
        for key, values in timings.items():
            print(f"  {key:<24} median {statistics.median(values):7.1f} ms   p99 {percentile(values, 99):7.1f} ms")
    finally:
        moto.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
