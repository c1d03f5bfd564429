"""Browser acceptance of the web UI: in headless chromium, log in, see the app, push a commit, watch the deployment
page move through its stages without a reload (Server-Sent Events), approve WAIT_APPROVAL from the page, see
SUCCESS, and write a screenshot. Then a viewer sees the same page without buttons. Exits non-zero on failure.

Environment: GANTRY_URL, GANTRY_TOKEN (API, to find the new deployment's id), EDITOR and VIEWER ("name:password"),
GIT_WORK (a clone to push from), SCREENSHOT (the PNG to write)."""
import json, os, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser

BASE = os.environ["GANTRY_URL"]


def api(path):
    request = urllib.request.Request(BASE + path, headers={"Authorization": "Bearer " + os.environ["GANTRY_TOKEN"]})
    return json.load(urllib.request.urlopen(request, timeout=10))


def log_in(browser, credentials):
    name, password = credentials.split(":", 1)
    browser.goto(BASE + "/login")
    browser.evaluate(f"document.getElementById('username').value = {json.dumps(name)}")
    browser.evaluate(f"document.getElementById('password').value = {json.dumps(password)}")
    browser.submit_and_wait("#login")
    who = browser.wait_for("the signed-in header", "document.getElementById('who') && document.getElementById('who').innerText")
    assert who.startswith(name), f"signed in as {who!r}, wanted {name}"


def stage_status(index):
    return f"(document.getElementById('stage-{index}') || {{}}).dataset?.status"


def step(text, started=[time.time()]):
    print(f"{time.time() - started[0]:6.2f}s {text}", flush=True)


def main():
    browser = Browser()
    step("chromium up")
    try:
        log_in(browser, os.environ["EDITOR"])
        step("logged in")
        browser.goto(BASE + "/applications")
        assert browser.evaluate("!!document.querySelector('tr.app[data-app=\"hello\"]')"), "the app is not listed"
        browser.evaluate("window.__same_page = 'apps'")

        known = {d["id"] for d in api("/api/v1/deployments")["deployments"]}
        work = os.environ["GIT_WORK"]
        with open(os.path.join(work, "apps/hello/index.txt"), "a") as f:
            f.write("a change from the browser test\n")
        subprocess.run(["git", "-C", work, "commit", "-qam", "browser test change"], check=True)
        subprocess.run(["git", "-C", work, "push", "-q", "origin", "main"], check=True, capture_output=True)
        deadline = time.time() + 30
        new_id = None
        while new_id is None and time.time() < deadline:
            fresh = [d["id"] for d in api("/api/v1/deployments")["deployments"] if d["id"] not in known]
            new_id = fresh[0] if fresh else None
            time.sleep(0.1)
        assert new_id, "no deployment appeared after the push"
        step("pushed")
        # The applications page, still open, shows the new deployment by itself.
        browser.wait_for("the app row to link the new deployment",
                         f"document.querySelector('tr.app[data-app=\"hello\"] a[href=\"/deployments/{new_id}\"]') !== null")
        assert browser.evaluate("window.__same_page") == "apps", "the applications page was reloaded"

        step("applications page updated live")
        browser.goto(f"{BASE}/deployments/{new_id}")
        # A marker that a reload would wipe: everything below must happen on this very page load.
        browser.evaluate("window.__same_page = 'yes'")
        seen = set()
        deadline = time.time() + 60
        while time.time() < deadline:
            statuses = browser.evaluate("[...document.querySelectorAll('ol.graph:not(.rollback) li.stage')].map(li => li.dataset.status).join(',')")
            seen.add(statuses)
            if statuses and statuses.split(",")[2] == "SUSPENDED" and browser.evaluate("!!document.getElementById('approve-2')"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"WAIT_APPROVAL never showed as SUSPENDED with an Approve button; saw {seen}")
        assert browser.evaluate("window.__same_page") == "yes", "the page was reloaded"
        assert len(seen) >= 2, f"the stage graph never changed on the open page: {seen}"
        log = browser.wait_for("the SCRIPT_RUN log line, streamed", "document.getElementById('log-0').textContent.includes('building hello') && document.getElementById('log-0').textContent")
        print("stage states seen without reload:", " | ".join(sorted(seen)))

        step("approval awaited on the open page")
        browser.submit_and_wait("#approve-2")
        browser.wait_for("SUCCESS", "document.getElementById('status').dataset.status === 'SUCCESS'")
        browser.evaluate("window.__same_page = 'after-approve'")
        assert "approved by" in browser.evaluate("document.getElementById('stage-2').innerText")
        step("SUCCESS shown")
        browser.screenshot(os.environ["SCREENSHOT"])
        print("screenshot:", os.environ["SCREENSHOT"])

        # A viewer: the same page, no buttons at all.
        browser.submit_and_wait("header form.who button")
        log_in(browser, os.environ["VIEWER"])
        browser.goto(f"{BASE}/deployments/{new_id}")
        assert browser.evaluate("document.getElementById('status').dataset.status") == "SUCCESS"
        buttons = browser.evaluate("[...document.querySelectorAll('main button')].map(b => b.innerText).join(',')")
        assert buttons == "", f"a viewer sees buttons: {buttons}"
        print("viewer sees no buttons")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
