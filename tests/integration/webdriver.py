"""A small W3C WebDriver client over the standard library: Debian's
chromedriver on a free loopback port driving headless chromium. Used by
the dashboard test and the dashboard load measurement.

find_browser() says what is missing, after trying to install it (as
root, with apt-get) the way `make deps` would."""

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import harness

PACKAGES = ["chromium", "chromium-driver"]


class WebDriverError(Exception):
    pass


def _binaries():
    # /usr/bin/chromium is a wrapper script; chromedriver wants the program.
    chromium = next((p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "")
                     if p and os.access(p, os.X_OK)), None)
    return chromium, shutil.which("chromedriver")


def find_browser():
    """(chromium, chromedriver) paths, or (None, reason) when they are
    missing and cannot be installed here."""
    chromium, driver = _binaries()
    if chromium and driver:
        return chromium, driver
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "chromium and chromedriver are not installed, and installing " \
            "them needs root and apt-get (apt-get install %s)" % " ".join(PACKAGES)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y"] + PACKAGES, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    chromium, driver = _binaries()
    if chromium and driver:
        return chromium, driver
    tail = r.stdout.decode(errors="replace").strip().splitlines()[-3:]
    return None, "chromium and chromedriver are not installed and apt-get could not " \
        "install them: %s" % " / ".join(tail)


class Browser:
    """One chromedriver process and one headless chromium session."""

    def __init__(self, workdir, chromium, driver, width=1280, height=1000):
        self.port = harness.free_port()
        self.log_path = os.path.join(workdir, "chromedriver.log")
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([driver, "--port=%d" % self.port, "--allowed-ips=127.0.0.1"],
                                     stdout=self.logf, stderr=self.logf)
        self.base = "http://127.0.0.1:%d" % self.port
        self.session = None
        harness.wait_for(self._ready, 30, "chromedriver on port %d" % self.port, interval=0.1)
        profile = os.path.join(workdir, "chromium-profile")
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--metrics-recording-only", "--hide-scrollbars",
                "--force-device-scale-factor=1", "--lang=en-GB",
                "--window-size=%d,%d" % (width, height), "--user-data-dir=" + profile]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}}
        value = self._call("POST", "/session", caps)
        self.session = value["sessionId"]

    def _ready(self):
        if self.proc.poll() is not None:
            raise harness.TestFailure("chromedriver exited with %s" % self.proc.returncode)
        with urllib.request.urlopen(self.base + "/status", timeout=2) as r:
            return json.loads(r.read())["value"].get("ready")

    def _call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read())["value"]
                raise WebDriverError("%s %s: %s: %s" % (method, path, v.get("error"),
                                                        v.get("message", "").splitlines()[0]))
            except (ValueError, KeyError):
                raise WebDriverError("%s %s: HTTP %d" % (method, path, e.code))

    def cmd(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def execute(self, script, *args):
        """Run script (a function body; arguments in `arguments`) in the page."""
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def execute_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def find(self, css):
        """The element for a CSS selector, as a WebDriver reference."""
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})

    def find_all(self, css):
        return self.cmd("POST", "/elements", {"using": "css selector", "value": css})

    def _eid(self, el):
        return next(iter(el.values()))

    def click(self, css):
        self.cmd("POST", "/element/%s/click" % self._eid(self.find(css)), {})

    def clear(self, css):
        self.cmd("POST", "/element/%s/clear" % self._eid(self.find(css)), {})

    def type(self, css, text):
        self.cmd("POST", "/element/%s/value" % self._eid(self.find(css)), {"text": text})

    def keys(self, text):
        """Keys to whatever has the focus (e.g. "\\ue004" for Tab)."""
        actions = []
        for ch in text:
            actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kbd", "actions": actions}]})
        self.cmd("DELETE", "/actions")

    def text(self, css):
        return self.cmd("GET", "/element/%s/text" % self._eid(self.find(css)))

    def screenshot(self, path):
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)
        return len(png)

    def wait(self, script, timeout=20, what=None, *args):
        """Wait until script returns something true; return it."""
        return harness.wait_for(lambda: self.execute(script, *args), timeout,
                                what or script, interval=0.1)

    def wait_ready(self, page, timeout=30):
        """Wait until the dashboard has drawn page (body data-ready); 'ok' or 'error'."""
        return self.wait("return document.body.getAttribute('data-page') === arguments[0] && "
                         "document.body.getAttribute('data-ready');", timeout,
                         "the %s page to be drawn" % page, page)

    def quit(self):
        if self.session is not None:
            try:
                self.cmd("DELETE", "")
            except (WebDriverError, OSError):
                pass
            self.session = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
