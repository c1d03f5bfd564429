# Gantry: `make run` starts the demo, `make test` runs the whole suite. Both install what they need first.
SHELL := /bin/bash
APT_PACKAGES := libssl-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev git curl openssl procps postgresql-15
SWIFT_BUILD_FLAGS ?=

.PHONY: run test build release deps test-deps bench bench-ui bench-lambda bench-kubernetes bench-ingress bench-replicas chaos clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The Lambda tests run moto_server (PyPI moto[server]) as their AWS; pip brings it, with python3-pip if need be.
# The Kubernetes tests run the real kubectl against a fake API server (python3): Debian's kubernetes-client (1.20)
# when no kubectl is installed; the function turns client-side validation off for a kubectl that old.
test-deps: deps
	@if ! command -v kubectl >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then \
	  echo "installing kubectl (kubernetes-client) and python3"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq kubernetes-client python3; \
	fi
# The ANALYSIS tests query a real Prometheus (Debian's prometheus, each test its own on a loopback port and a
# throwaway TSDB). Without recommends: no node exporter. On a machine with systemd the package also enables its
# own service on :9090; the tests never use it.
	@command -v prometheus >/dev/null 2>&1 || { echo "installing prometheus"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; }
# The web UI's browser acceptance test drives Debian's headless chromium over its DevTools protocol.
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@if ! command -v moto_server >/dev/null 2>&1; then \
	  echo "installing moto[server] (pip)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  python3 -m pip --version >/dev/null 2>&1 || { $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-pip; }; \
	  $$SUDO python3 -m pip install -q 'moto[server]' 2>/dev/null || \
	    $$SUDO python3 -m pip install -q --break-system-packages 'moto[server]'; \
	fi

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

run: build
	swift run $(SWIFT_BUILD_FLAGS) gantry demo

# Functions run isolated as an unprivileged user (README "Security model"), which must be able to walk down to the
# built function executables and to the tests' temporary folders: as root, let others traverse (x only, never read)
# every folder above this checkout and above the temporary directory. A clone inside a 0700 folder needs it.
test: test-deps
	@if [ "$$(id -u)" = 0 ]; then for start in "$(CURDIR)" "$${TMPDIR:-/tmp}"; do \
	  d="$$start"; while [ "$$d" != "/" ] && [ -n "$$d" ]; do chmod o+x "$$d"; d=$$(dirname "$$d"); done; done; fi
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	# XCTest only (no Swift Testing suites): its "Executed N tests" line closes the run.
	swift test --skip-build --disable-swift-testing $(SWIFT_BUILD_FLAGS)

release: deps
	swift build -c release

# 200 random kill -9 / SIGSTOP events against the server and its functions, then the history checker.
chaos: deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	CHAOS_EVENTS=$${CHAOS_EVENTS:-200} swift test --skip-build --disable-swift-testing --filter ChaosTests $(SWIFT_BUILD_FLAGS)

bench: deps
	bash infra/bench/run.sh

# Replicas on one PostgreSQL next to SQLite: ingest, no-op stage throughput, failover time.
bench-replicas: deps
	bash infra/bench/replicas.sh

# Web UI page render time (server side) with 10,000 deployments stored.
bench-ui: deps
	swift build -c release --product gantry
	python3 infra/bench/ui_bench.py --bin .build/release

# The lambda function's per-stage cost against moto_server (release build of that function only).
bench-lambda: test-deps
	swift build -c release --product gantry-fn-lambda
	python3 infra/bench/lambda_bench.py

# The kubernetes function's per-stage cost (real kubectl) against the fake API server of the tests.
bench-kubernetes: test-deps
	swift build --product gantry-fn-kubernetes $(SWIFT_BUILD_FLAGS)
	python3 infra/bench/kubernetes_bench.py

# Webhook ingress against adnanh/webhook (Debian's `webhook`), driven by wrk.
bench-ingress: deps
	@for p in webhook wrk; do dpkg -s $$p >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq webhook wrk; break; }; done
	bash infra/bench/ingress-vs-webhook.sh

clean:
	rm -rf .build .gantry .gantry-demo
