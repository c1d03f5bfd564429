#!/usr/bin/env python3
"""Cost of the kubernetes function's stages against the fake API server on loopback (`make bench-kubernetes`).

Each round runs DETERMINE_STRATEGY (the planning invocation: the diff of two commits' manifests, no cluster),
K8S_CANARY_ROLLOUT, K8S_PRIMARY_ROLLOUT, K8S_CANARY_CLEAN, ROLLBACK and K8S_SYNC on the seed app
(a Deployment of 3 replicas and a Service), each stage as one real invocation of gantry-fn-kubernetes with an event
on stdin (as the function host runs it, minus the host), the real kubectl doing the talking. Prints the median and
p90 wall time per stage in ms, and the bare cost of one `kubectl version --client` for comparison. Each invocation has
a fresh HOME, as under the host; `$GANTRY_CACHE` (the function's cache directory, kept between invocations) is given
unless --no-cache, so the figures show with and without kubectl's discovery cache.
Usage: python3 infra/bench/kubernetes_bench.py [--bin .build/debug] [--rounds 10] [--no-cache]
"""
import argparse, json, os, statistics, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE = os.path.join(ROOT, "Tests/Support/fake-kube-apiserver.py")

APP = """apiVersion: pipecd.dev/v1beta1
kind: KubernetesApp
spec:
  name: bench
"""

MANIFESTS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "demo:%s"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/debug"))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--no-cache", action="store_true", help="no $GANTRY_CACHE: kubectl discovers the API every stage")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="k8s-bench-")
    fake = subprocess.Popen(["python3", FAKE, "--token", "bench", "--tls-dir", work], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    port = int(fake.stdout.readline().split()[2])
    kubeconfig = os.path.join(work, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}", certificate-authority: "{work}/ca.crt"}}}}]
users: [{{name: u, user: {{token: bench}}}}]
contexts: [{{name: bench, context: {{cluster: c, user: u, namespace: default}}}}]
current-context: bench
""")
    for commit, version in (("c1", "v1"), ("c2", "v2")):
        os.makedirs(os.path.join(work, commit))
        with open(os.path.join(work, commit, "app.pipecd.yaml"), "w") as f:
            f.write(APP)
        with open(os.path.join(work, commit, "web.yaml"), "w") as f:
            f.write(MANIFESTS % version)
    platform = {"name": "bench", "kind": "kubernetes", "kubeconfig": kubeconfig, "context": "bench"}
    fn = os.path.join(args.bin, "gantry-fn-kubernetes")
    cache = {} if args.no_cache else {"GANTRY_CACHE": os.path.join(work, "cache")}

    def invoke(stage, commit, running, with_=None):
        home = tempfile.mkdtemp(dir=work)
        event = {"protocol": 1,
                 "invocation": {"id": "i", "key": "k", "attempt": 1, "deadline": "2099-01-01T00:00:00Z"},
                 "deployment": {"id": "d", "application": "bench", "commit": commit, "runningCommit": running,
                                "trigger": {"kind": "webhook", "commitMessage": "", "author": ""}},
                 "stage": {"index": 0, "name": stage, "with": with_ or {}, "rollback": stage == "ROLLBACK"},
                 "checkpoint": None,
                 "sources": {"target": os.path.join(work, commit), "running": os.path.join(work, running) if running else None},
                 "platform": platform}
        start = time.perf_counter()
        out = subprocess.run([fn], input=json.dumps(event), capture_output=True, text=True, cwd=home,
                             env={"PATH": os.environ["PATH"], "HOME": home, "LANG": "C.UTF-8", "TMPDIR": home, **cache})
        ms = (time.perf_counter() - start) * 1000
        if not any(f'"{ok}"' in out.stdout.splitlines()[-1] for ok in ("succeeded", "skipped")):
            raise SystemExit(f"{stage} failed: {out.stdout}\n{out.stderr}")
        return ms

    invoke("K8S_SYNC", "c1", None)
    # The floor of a planning invocation: no running commit, so the function starts, reads its event and answers
    # `skipped` without reading a manifest.
    stages = [("DETERMINE_STRATEGY (floor: nothing to compare)", "c2", None, None), ("DETERMINE_STRATEGY", "c2", "c1", None), ("K8S_CANARY_ROLLOUT", "c2", "c1", {"replicas": "60%"}), ("K8S_PRIMARY_ROLLOUT", "c2", "c1", None),
              ("K8S_CANARY_CLEAN", "c2", "c1", None), ("ROLLBACK", "c2", "c1", None), ("K8S_SYNC", "c1", None, None)]
    times = {s[0]: [] for s in stages}
    bare = []
    for _ in range(args.rounds):
        for stage, commit, running, with_ in stages:
            times[stage].append(invoke(stage.split(" ")[0], commit, running, with_))
        start = time.perf_counter()
        subprocess.run(["kubectl", "version", "--client"], capture_output=True)
        bare.append((time.perf_counter() - start) * 1000)
    fake.kill()
    print(f"load average {os.getloadavg()[0]:.2f}; kubernetes function against the fake API server, {args.rounds} rounds ({fn}), "
          f"{'no cache' if args.no_cache else 'with $GANTRY_CACHE'}")
    for stage, values in list(times.items()) + [("kubectl version --client (bare)", bare)]:
        values.sort()
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(f"  {stage:34s} median {statistics.median(values):7.1f} ms   p90 {p90:7.1f} ms")


if __name__ == "__main__":
    main()
