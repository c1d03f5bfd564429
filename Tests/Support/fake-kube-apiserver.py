#!/usr/bin/env python3
"""A FAKE Kubernetes API server for Gantry's tests (no real API server can run on the test machines).

The real `kubectl` talks to it through an ordinary kubeconfig (plain http on loopback, bearer token), so the
Kubernetes function under test cannot tell it from a cluster for what it uses:
  - discovery: /version, /api, /apis, /api/v1, /apis/<group>/<version> (the legacy, non-aggregated form:
    kubectl falls back to it when the answer is plain application/json), /openapi/v2|v3 answer 404;
  - per resource: GET one, GET list (labelSelector: k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)),
    POST create, PUT replace, PATCH (server-side apply, JSON merge patch, strategic merge treated as merge),
    DELETE (one, or a collection by labelSelector);
  - Kubernetes' answers: Status objects with reason and code (NotFound, AlreadyExists, Invalid, Forbidden,
    Unauthorized, Conflict), a namespaced object in a missing namespace is refused, a Deployment's selector must
    match its template labels and cannot change.
Server-side apply is modelled for one field manager, which is how Gantry uses it: the applied configuration
becomes the object's whole content (fields left out of it are removed), server fields (uid, resourceVersion,
creationTimestamp, generation) are kept.

Test controls, under /fake/ (no token needed):
  GET  /fake/objects            every stored object: [{"resource", "namespace", "name", "object"}]
  GET  /fake/history            every change in order: [{"seq", "verb": create|update|delete, "kind", ...}]
  POST /fake/hold     {"pattern": REGEX}          matching writes are applied, then their answer waits
  GET  /fake/held                                 {"held": N} answers waiting now
  POST /fake/release                              lets held answers go (and clears the pattern)
  POST /fake/fail     {"pattern": REGEX, "code": 403, "reason": "Forbidden", "message": "..."}  refuses writes
  POST /fake/clear-faults
The pattern is matched against "VERB /path" (e.g. "PATCH /apis/apps/v1/namespaces/demo/deployments/web-canary").
Usage: fake-kube-apiserver.py [--port N] [--token T] [--tls-dir DIR] [--dump FILE]
  prints "listening on PORT control CONTROL_PORT" when ready; the controls also answer on CONTROL_PORT (plain http)
"""
import argparse
import copy
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

# (group, version, resource, kind, namespaced). Enough for the kinds Gantry deploys and for kubectl's
# default prune allowlist, which lists every one of these by label.
RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False),
    ("", "v1", "configmaps", "ConfigMap", True),
    ("", "v1", "secrets", "Secret", True),
    ("", "v1", "services", "Service", True),
    ("", "v1", "pods", "Pod", True),
    ("", "v1", "endpoints", "Endpoints", True),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
    ("", "v1", "persistentvolumes", "PersistentVolume", False),
    ("", "v1", "replicationcontrollers", "ReplicationController", True),
    ("", "v1", "serviceaccounts", "ServiceAccount", True),
    ("apps", "v1", "deployments", "Deployment", True),
    ("apps", "v1", "replicasets", "ReplicaSet", True),
    ("apps", "v1", "daemonsets", "DaemonSet", True),
    ("apps", "v1", "statefulsets", "StatefulSet", True),
    ("batch", "v1", "jobs", "Job", True),
    ("batch", "v1", "cronjobs", "CronJob", True),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    ("networking.istio.io", "v1beta1", "virtualservices", "VirtualService", True),
    ("networking.istio.io", "v1beta1", "destinationrules", "DestinationRule", True),
]
BY_PATH = {(g, v, r): (k, ns) for g, v, r, k, ns in RESOURCES}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class State:
    def __init__(self, dump):
        self.lock = threading.Lock()
        self.objects = {}          # (group, resource, namespace, name) -> object
        self.history = []
        self.rv = 1
        self.dump = dump
        self.hold_pattern = None
        self.held = 0
        self.release = threading.Event()
        self.faults = []           # (regex, code, reason, message)
        for ns in ("default", "kube-system"):
            self._store("", "v1", "namespaces", "Namespace", "", {"apiVersion": "v1", "kind": "Namespace",
                                                                 "metadata": {"name": ns}}, record=False)

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _store(self, group, version, resource, kind, namespace, obj, record=True, verb="create"):
        meta = obj.setdefault("metadata", {})
        key = (group, resource, namespace, meta["name"])
        old = self.objects.get(key)
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            meta["generation"] = 1
        else:
            for f in ("uid", "creationTimestamp"):
                meta[f] = old["metadata"][f]
            changed = {k: v for k, v in obj.items() if k not in ("metadata", "status")} != \
                {k: v for k, v in old.items() if k not in ("metadata", "status")}
            meta["generation"] = old["metadata"].get("generation", 1) + (1 if changed else 0)
            if "status" in old and "status" not in obj:
                obj["status"] = old["status"]
        if namespace:
            meta["namespace"] = namespace
        meta["resourceVersion"] = self.next_rv()
        obj["apiVersion"] = (group + "/" if group else "") + version
        obj["kind"] = kind
        if kind == "Deployment":
            spec = obj.get("spec", {})
            obj["status"] = {"observedGeneration": meta["generation"], "replicas": spec.get("replicas", 1),
                             "updatedReplicas": spec.get("replicas", 1), "readyReplicas": spec.get("replicas", 1),
                             "availableReplicas": spec.get("replicas", 1)}
        self.objects[key] = obj
        if record:
            self.record(verb if old is None else "update", kind, namespace, meta["name"], obj)
        self.save()
        return obj, old is None

    def record(self, verb, kind, namespace, name, obj):
        self.history.append({"seq": len(self.history) + 1, "verb": verb, "kind": kind, "namespace": namespace,
                             "name": name, "object": copy.deepcopy(obj)})

    def save(self):
        if not self.dump:
            return
        with open(self.dump + ".tmp", "w") as f:
            json.dump({"objects": self.listing(), "history": self.history}, f)
        import os
        os.replace(self.dump + ".tmp", self.dump)

    def listing(self):
        return [{"resource": r, "group": g, "namespace": ns, "name": n, "object": o}
                for (g, r, ns, n), o in sorted(self.objects.items())]


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return code, body


def parse_selector(text):
    """Kubernetes label selector text into a list of predicates."""
    preds = []
    if not text:
        return preds
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in (x.strip() for x in parts if x.strip()):
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", p)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            if m.group(2) == "in":
                preds.append(lambda l, k=m.group(1), vs=values: l.get(k) in vs)
            else:
                preds.append(lambda l, k=m.group(1), vs=values: l.get(k) not in vs)
        elif "!=" in p:
            k, v = p.split("!=", 1)
            preds.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) != v)
        elif "==" in p or "=" in p:
            k, v = re.split(r"==?", p, 1)
            preds.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) == v)
        elif p.startswith("!"):
            preds.append(lambda l, k=p[1:].strip(): k not in l)
        else:
            preds.append(lambda l, k=p: k in l)
    return preds


def merge(base, patch):
    """JSON merge patch (RFC 7386)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def openapi_v3(path):
    """Just enough OpenAPI v3 for kubectl to see that PATCH takes `fieldValidation` for every kind, so it leaves
    validation to the server (its default, --validate=strict) instead of downloading schemas."""
    gvs = sorted({(g, v) for g, v, *_ in RESOURCES})
    def gv_path(g, v):
        return f"api/{v}" if not g else f"apis/{g}/{v}"
    if path == "/openapi/v3":
        return 200, {"paths": {gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{gv_path(g, v)}?hash=fake"}
                               for g, v in gvs}}
    for g, v in gvs:
        if path == "/openapi/v3/" + gv_path(g, v):
            paths = {}
            for rg, rv, r, k, namespaced in RESOURCES:
                if (rg, rv) != (g, v):
                    continue
                item = f"/{gv_path(g, v)}/" + ("namespaces/{namespace}/" if namespaced else "") + r + "/{name}"
                paths[item] = {"patch": {"x-kubernetes-group-version-kind": {"group": g, "version": v, "kind": k},
                                         "parameters": [{"name": "fieldValidation", "in": "query",
                                                         "schema": {"type": "string"}},
                                                        {"name": "fieldManager", "in": "query",
                                                         "schema": {"type": "string"}}],
                                         "responses": {}}}
            return 200, {"openapi": "3.0.0", "info": {"title": "Kubernetes (fake)", "version": "v1.32.0"},
                         "paths": paths}
    return status(404, "NotFound", "the server could not find the requested resource")


def invalid(kind, group, name, field, detail):
    """A 422 as the API server words it, with the causes kubectl prints."""
    qualified = f"{kind}.{group}" if group else kind
    return status(422, "Invalid", f"{qualified} \"{name}\" is invalid: {field}: {detail}",
                  {"name": name, "group": group, "kind": kind,
                   "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": field}]})


def validate(kind, obj, old):
    name = obj.get("metadata", {}).get("name")
    if not name or not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name) or len(name) > 253:
        return invalid(kind, "", name, "metadata.name", f"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain "
                       "must consist of lower case alphanumeric characters, '-' or '.'")
    if kind == "Deployment":
        spec = obj.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not selector:
            return invalid(kind, "apps", name, "spec.selector", "Required value")
        if any(labels.get(k) != v for k, v in selector.items()):
            return invalid(kind, "apps", name, "spec.template.metadata.labels",
                           f"Invalid value: {json.dumps(labels, sort_keys=True)}: `selector` does not match template `labels`")
        if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
            return invalid(kind, "apps", name, "spec.template.spec.containers", "Required value")
        if old is not None and (old.get("spec", {}).get("selector") or {}) != (spec.get("selector") or {}):
            return invalid(kind, "apps", name, "spec.selector",
                           f"Invalid value: {json.dumps(spec.get('selector'), sort_keys=True)}: field is immutable")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without this each answer waits ~40 ms
    state = None
    token = None

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    # -- plumbing --
    def reply(self, code, body, content_type="application/json"):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        text = raw.decode()
        try:
            return json.loads(text)
        except ValueError:
            try:
                import yaml  # apply patches are sent as JSON by kubectl; YAML only if PyYAML happens to exist
                return yaml.safe_load(text)
            except Exception:
                return "__unparseable__"

    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

    def handle_any(self, verb):
        url = urlparse(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        if path.startswith("/fake/"):
            return self.reply(*self.control(verb, path))
        if self.token and self.headers.get("Authorization") != "Bearer " + self.token:
            self.body()
            return self.reply(*status(401, "Unauthorized", "Unauthorized"))
        # Read every body (DELETE carries DeleteOptions): leftovers would be taken for the next request.
        body = self.body()
        if verb not in ("POST", "PUT", "PATCH"):
            body = None
        try:
            code, answer, hold = self.route(verb, path, query, body)
        except Exception as e:  # a bug in the fake is a 500 with its words, never a hang
            code, answer, hold = 500, status(500, "InternalError", f"fake apiserver: {e!r}")[1], False
        if hold:
            with self.state.lock:
                self.state.held += 1
            self.state.release.wait()
            with self.state.lock:
                self.state.held -= 1
        self.reply(code, answer)

    # -- test controls --
    def control(self, verb, path):
        s = self.state
        if path == "/fake/objects":
            with s.lock:
                return 200, s.listing()
        if path == "/fake/history":
            with s.lock:
                return 200, s.history
        if path == "/fake/held":
            return 200, {"held": s.held}
        body = self.body() or {}
        with s.lock:
            if path == "/fake/hold":
                s.release.clear()
                s.hold_pattern = re.compile(body["pattern"])
            elif path == "/fake/release":
                s.hold_pattern = None
                s.release.set()
            elif path == "/fake/fail":
                s.faults.append((re.compile(body["pattern"]), body.get("code", 403), body.get("reason", "Forbidden"),
                                 body.get("message", "forbidden")))
            elif path == "/fake/clear-faults":
                s.faults = []
            else:
                return 404, {"error": "no such control"}
        return 200, {"ok": True}

    # -- the API --
    def route(self, verb, path, query, body):
        if path == "/version":
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake", "platform": "linux/amd64"}, False
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.headers.get("Host", "")}]}, False
        if path == "/apis":
            groups = {}
            for g, v, *_ in RESOURCES:
                if g:
                    groups.setdefault(g, [])
                    if v not in groups[g]:
                        groups[g].append(v)
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in groups.items()]}, False
        if path.startswith("/openapi/v3"):
            return (*openapi_v3(path), False)
        m = re.match(r"^/(?:api/(v1)|apis/([^/]+)/([^/]+))(/.*)?$", path)
        if not m:
            return (*status(404, "NotFound", "the server could not find the requested resource"), False)
        group, version = (("", "v1") if m.group(1) else (m.group(2), m.group(3)))
        rest = [p for p in (m.group(4) or "").split("/") if p]
        if not rest:
            resources = [{"name": r, "singularName": k.lower(), "namespaced": ns, "kind": k, "verbs": VERBS}
                         for g, v, r, k, ns in RESOURCES if g == group and v == version]
            if not resources:
                return (*status(404, "NotFound", "the server could not find the requested resource"), False)
            return 200, {"kind": "APIResourceList", "apiVersion": "v1",
                         "groupVersion": f"{group}/{version}" if group else version, "resources": resources}, False
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource, name = rest[0], (rest[1] if len(rest) > 1 else None)
        if len(rest) > 2:  # subresources (status, scale) are not served
            return (*status(404, "NotFound", "the server could not find the requested resource"), False)
        info = BY_PATH.get((group, version, resource))
        if info is None:
            return (*status(404, "NotFound", "the server could not find the requested resource"), False)
        kind, namespaced = info
        if not namespaced:
            namespace = ""
        gr = f"{resource}.{group}" if group else resource
        s = self.state
        with s.lock:
            for regex, code, reason, message in s.faults:
                if verb != "GET" and regex.search(f"{verb} {path}"):
                    return (*status(code, reason, message), False)
            hold = bool(s.hold_pattern and verb != "GET" and s.hold_pattern.search(f"{verb} {path}"))
            key = (group, resource, namespace, name)
            if verb == "GET" and name:
                obj = s.objects.get(key)
                if obj is None:
                    return (*status(404, "NotFound", f"{gr} \"{name}\" not found",
                                    {"name": name, "group": group, "kind": resource}), False)
                return 200, obj, False
            if verb in ("GET", "DELETE") and not name:
                preds = parse_selector((query.get("labelSelector") or [""])[0])
                items = [o for (g, r, ns, n), o in sorted(s.objects.items())
                         if g == group and r == resource and (not namespace or ns == namespace)
                         and all(p(o.get("metadata", {}).get("labels") or {}) for p in preds)]
                if verb == "DELETE":
                    for o in items:
                        self.delete(s, group, resource, kind, o["metadata"].get("namespace", ""), o["metadata"]["name"])
                return 200, {"kind": kind + "List", "apiVersion": (group + "/" if group else "") + version,
                             "metadata": {"resourceVersion": str(s.rv)}, "items": items}, hold
            if verb == "DELETE":
                obj = s.objects.get(key)
                if obj is None:
                    return (*status(404, "NotFound", f"{gr} \"{name}\" not found",
                                    {"name": name, "group": group, "kind": resource}), False)
                self.delete(s, group, resource, kind, namespace, name)
                return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success",
                             "details": {"name": name, "group": group, "kind": resource, "uid": obj["metadata"]["uid"]}}, hold
            if body == "__unparseable__" or (body is not None and not isinstance(body, dict)):
                return (*status(400, "BadRequest", "the request body is not a JSON or YAML object"), False)
            if namespace and ("", "namespaces", "", namespace) not in s.objects:
                return (*status(404, "NotFound", f"namespaces \"{namespace}\" not found",
                                {"name": namespace, "kind": "namespaces"}), False)
            if verb == "POST":
                name = (body.get("metadata") or {}).get("name")
                key = (group, resource, namespace, name)
                if key in s.objects:
                    return (*status(409, "AlreadyExists", f"{gr} \"{name}\" already exists"), False)
                return self.write(s, group, version, resource, kind, namespace, body, None, "create", hold)
            old = s.objects.get(key)
            if verb == "PUT":
                if old is None:
                    return (*status(404, "NotFound", f"{gr} \"{name}\" not found"), False)
                return self.write(s, group, version, resource, kind, namespace, body, old, "update", hold)
            # PATCH
            ctype = (self.headers.get("Content-Type") or "").split(";")[0]
            if ctype == "application/apply-patch+yaml":
                if (body.get("metadata") or {}).get("name") != name:
                    return (*status(400, "BadRequest", "metadata.name in the apply patch does not match the URL"), False)
                new = copy.deepcopy(body)
                manager = (query.get("fieldManager") or [""])[0]
                if not manager:
                    return (*status(422, "Invalid", "PATCH apply needs a fieldManager"), False)
                new.setdefault("metadata", {})["managedFields"] = [
                    {"manager": manager, "operation": "Apply", "apiVersion": (group + "/" if group else "") + version}]
                return self.write(s, group, version, resource, kind, namespace, new, old, "apply", hold)
            if old is None:
                return (*status(404, "NotFound", f"{gr} \"{name}\" not found"), False)
            new = merge(old, body)
            return self.write(s, group, version, resource, kind, namespace, new, old, "update", hold)

    def write(self, s, group, version, resource, kind, namespace, obj, old, verb, hold):
        problem = validate(kind, obj, old)
        if problem:
            return (*problem, False)
        for f in ("resourceVersion", "uid", "creationTimestamp", "generation"):
            obj.get("metadata", {}).pop(f, None)
        stored, created = s._store(group, version, resource, kind, namespace, obj)
        return (201 if created else 200), stored, hold

    def delete(self, s, group, resource, kind, namespace, name):
        obj = s.objects.pop((group, resource, namespace, name))
        s.record("delete", kind, namespace, name, obj)
        if kind == "Namespace":  # a namespace takes its objects with it
            for k in [k for k in s.objects if k[2] == name]:
                gone = s.objects.pop(k)
                s.record("delete", gone["kind"], name, k[3], gone)
        s.save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    ap.add_argument("--token")
    ap.add_argument("--dump")
    ap.add_argument("--tls-dir", help="serve https with a self-signed certificate made here (ca.crt for kubeconfig)")
    args = ap.parse_args()
    Handler.state = State(args.dump)
    Handler.token = args.token
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_dir:
        # kubectl sends a bearer token only over TLS, as it does to a real cluster.
        import ssl
        import subprocess
        cert, key = args.tls_dir + "/ca.crt", args.tls_dir + "/tls.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=fake-kube-apiserver",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    # The test controls (/fake/...) also answer on a plain-http port, so a test needs no TLS client setup.
    control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"listening on {server.server_address[1]} control {control.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
