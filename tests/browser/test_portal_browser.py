"""End-to-end browser test of the recipient portal.

A real headless Chromium walks a recipient through a Confidential link against the real
customerlink binary: landing (token swapped for a cookie), "Send me a code", the code read from
an SMTP sink, verify, "Open the Document", and the hand-off to a stand-in resource application
that exchanges the one-time grant at `POST /v1/customerlink/grant/introspect`. A second walk
does the same for a document share (`/share/{Token}`): a file uploaded and shared through the
staff API, the passcode, then "Download", and the bytes Chromium saved are the file's. A third
walks development mode (`serve --dev`): the link clicked in `/dev/mailbox`, the passcode read
from that page, open, and `/dev/resource` showing the introspection fields.

Everything is started here and stopped at the end: the SMTP sink (aiosmtpd on an asyncio loop in
a thread), the resource application (http.server in a thread), the customerlink server (a
subprocess on a temporary data folder) and Chromium (through chromedriver).


Environment (set by run.sh): CUSTOMERLINK_BIN, CUSTOMERLINK_POLICY_TEMPLATE, BROWSER_TEST_OUTPUT.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(os.environ.get("CUSTOMERLINK_BIN", ROOT / "target/debug/customerlink"))
POLICY_TEMPLATE = Path(os.environ.get("CUSTOMERLINK_POLICY_TEMPLATE", ROOT / "data/policy.toml"))
OUTPUT = Path(os.environ.get("BROWSER_TEST_OUTPUT", HERE / "output"))
AXE_JS = Path(os.environ.get("AXE_JS", HERE / "node_modules/axe-core/axe.min.js"))
ACCENT = "#7a1f5c"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

WAIT = 15  # seconds for any single explicit wait
TENANT_NAME = "Acme Insurance"
RECIPIENT = "ann@example.com"
SENDER = "links@example.test"
MIN_PNG_BYTES = 4000  # a blank 1024x768 PNG is ~3 KB; a rendered page is well above


# --- SMTP sink ------------------------------------------------------------------------------------


@dataclass
class Mail:
    rcpt_tos: list[str]
    mail_from: str
    message: email.message.EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class SmtpSink:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sink", daemon=True)
        self._server = None
        self.port = 0

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self._cond:
            self.mails.append(Mail(list(envelope.rcpt_tos), envelope.mail_from, message))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> None:
        loop = self._loop

        async def listen():
            return await loop.create_server(
                lambda: SMTP(self, hostname="sink.test", loop=loop), host="127.0.0.1", port=0
            )

        self._server = loop.run_until_complete(listen())
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            async def close():
                self._server.close()
                await self._server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def wait_for(self, predicate, timeout: float = WAIT) -> Mail:
        """The first kept message that satisfies `predicate`, waiting up to `timeout` for it."""
        found: list[Mail] = []

        def check() -> bool:
            found[:] = [m for m in self.mails if predicate(m)]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(check, timeout=timeout):
                raise AssertionError(
                    f"no matching email within {timeout}s; received {len(self.mails)}: "
                    + "; ".join(f"{m.rcpt_tos} {m.message['Subject']!r}" for m in self.mails)
                )
        return found[0]


# --- stand-in resource application ---------------------------------------------------------------


class ResourceApp:
    """What a resource application does with a hand-off: exchange the grant, then show the
    resource only if the grant is active and names this very resource and tenant."""

    def __init__(self) -> None:
        self.customerlink_url = ""  # set once the server is up
        self.api_key = ""  # a key with the ResourceServer role
        self.introspections: list[dict] = []  # (grant, reply) of each exchange
        self.errors: list[str] = []  # exchanges that failed outright
        self.lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                app.handle(self)

            def log_message(self, fmt, *args):  # keep pytest output readable
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="resource-app",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=10)
        self.httpd.server_close()

    def introspect(self, grant: str) -> dict:
        status, reply = http_json(
            "POST",
            f"{self.customerlink_url}/v1/customerlink/grant/introspect",
            self.api_key,
            {"Grant": grant},
        )
        assert status == 200, f"introspect answered {status}: {reply}"
        return reply

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        parts = [p for p in url.path.split("/") if p]
        query = urllib.parse.parse_qs(url.query)
        if len(parts) != 2 or "grant" not in query:
            return self.send(req, 404, "Not found", "<h1>Not found</h1>")
        resource_type, resource_uid = parts
        grant = query["grant"][0]
        tenant = query.get("tenant", [""])[0]
        try:
            reply = self.introspect(grant)
        except Exception as e:  # noqa: BLE001 (shown to the test, which then fails clearly)
            with self.lock:
                self.errors.append(repr(e))
            return self.send(req, 502, "Bad gateway", "<h1>Could not check the grant</h1>")
        with self.lock:
            self.introspections.append({"grant": grant, "reply": reply})
        ok = (
            reply.get("Active") is True
            and reply.get("ResourceType", "").lower() == resource_type.lower()
            and reply.get("ResourceUid") == resource_uid
            and reply.get("TenantId") == tenant
        )
        if not ok:
            return self.send(req, 403, "Access denied", "<h1>Access denied</h1>")
        who = html.escape(reply.get("RecipientEmail") or reply.get("RecipientPhone") or "?")
        body = (
            f"<h1 id=\"resource\">Resource {html.escape(resource_uid)} for {who}</h1>"
            f"<p>{html.escape(resource_type)} shown by the stand-in resource application.</p>"
        )
        self.send(req, 200, f"{resource_type} {resource_uid}", body)

    @staticmethod
    def send(req: BaseHTTPRequestHandler, status: int, title: str, body: str) -> None:
        page = (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>"
        ).encode()
        req.send_response(status)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(len(page)))
        req.send_header("Cache-Control", "no-store")
        req.end_headers()
        req.wfile.write(page)


# --- the customerlink server ------------------------------------------------------------------------


def http_json(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@dataclass
class Server:
    data: Path
    url: str = ""
    tenant_id: str = ""
    staff_key: str = ""
    resource_key: str = ""
    proc: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)
    extra: tuple[str, ...] = ()

    def cli(self, *args: str) -> str:
        r = subprocess.run(
            [str(BIN), *args, "--data", str(self.data)],
            capture_output=True, text=True, timeout=60,
        )
        assert r.returncode == 0, f"customerlink {' '.join(args)} failed: {r.stderr}"
        return r.stdout.strip()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--listen", "127.0.0.1:0", "--data", str(self.data),
             "--log-level", "info", *self.extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )
        up = threading.Event()

        def read_log():
            for line in self.proc.stderr:
                self.log.append(line.rstrip("\n"))
                m = re.search(r"address=(127\.0\.0\.1:\d+)", line)
                if m and not self.url:
                    self.url = f"http://{m.group(1)}"
                    up.set()
            up.set()  # the server exited: stop waiting

        threading.Thread(target=read_log, name="server-log", daemon=True).start()
        assert up.wait(WAIT) and self.url, "the server did not start:\n" + self.log_tail()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(timeout=5)
            assert rc == 0, f"the server exited with {rc} after SIGTERM:\n{self.log_tail()}"

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log[-n:])

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        return http_json(method, self.url + path, self.staff_key, body)


def write_config(data: Path, smtp_port: int, app_base: str) -> None:
    data.mkdir(parents=True)
    (data / "customerlink.toml").write_text(
        "[email]\n"
        f'smtp_url = "smtp://127.0.0.1:{smtp_port}"\n'
        f'from = "{SENDER}"\n'
        'from_name = "Acme Insurance"\n'
        "timeout_secs = 5\n"
    )
    # The shipped policy, with every hand-off URL pointed at the stand-in resource application
    # and an explicit entry for Documents.
    policy = POLICY_TEMPLATE.read_text()
    assert "http://127.0.0.1:9090" in policy and "\n[resource_urls]\n" in policy
    policy = policy.replace("http://127.0.0.1:9090", app_base)
    policy = policy.replace(
        "\n[resource_urls]\n",
        "\n[resource_urls]\n"
        f'Document = "{app_base}/{{ResourceType}}/{{ResourceUid}}?tenant={{TenantId}}"\n',
    )
    (data / "policy.toml").write_text(policy)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (the tenant's logo)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def resource_app():
    app = ResourceApp()
    app.start()
    yield app
    app.stop()


@pytest.fixture
def server(smtp_sink, resource_app):
    assert BIN.is_file(), f"no customerlink binary at {BIN}"
    work = Path(tempfile.mkdtemp(prefix="customerlink-browser."))
    srv = Server(data=work / "data")
    try:
        write_config(srv.data, smtp_sink.port, resource_app.base)
        # Keys first, with the CLI; the server then finds a tenant and bootstraps nothing.
        srv.tenant_id = srv.cli("tenant", "create", "--name", TENANT_NAME)
        assert re.fullmatch(r"[0-9a-f]{32}", srv.tenant_id), srv.tenant_id
        user = uuid.uuid4().hex
        srv.staff_key = srv.cli("key", "create", "--tenant", srv.tenant_id, "--user", user,
                                "--role", "Administrator", "--name", "browser test staff")
        srv.resource_key = srv.cli("key", "create", "--tenant", srv.tenant_id, "--user", user,
                                   "--role", "ResourceServer", "--name", "browser test app")
        logo = work / "logo.png"
        logo.write_bytes(png(96, 32, (0x7a, 0x1f, 0x5c)))
        srv.cli("tenant", "set", srv.tenant_id, "--accent", ACCENT, "--logo", str(logo))
        srv.start()
        assert not (srv.data / "initial-api-key").exists(), "the server bootstrapped a tenant"
        resource_app.customerlink_url = srv.url
        resource_app.api_key = srv.resource_key
        yield srv
    finally:
        try:
            srv.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def dev_server():
    """`customerlink serve --dev` on a fresh data folder: the built-in policy, no relay."""
    assert BIN.is_file(), f"no customerlink binary at {BIN}"
    work = Path(tempfile.mkdtemp(prefix="customerlink-dev."))
    srv = Server(data=work / "data", extra=("--dev",))
    try:
        srv.start()
        srv.staff_key = (srv.data / "initial-api-key").read_text().strip()
        assert any("DEVELOPMENT MODE" in line for line in srv.log), srv.log_tail()
        yield srv
    finally:
        try:
            srv.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def downloads():
    """Where Chromium saves downloads (a share's file)."""
    folder = Path(tempfile.mkdtemp(prefix="customerlink-downloads."))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def driver(downloads):
    profile = tempfile.mkdtemp(prefix="customerlink-chromium.")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1024,768",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    service = Service(CHROMEDRIVER)
    drv = None
    try:
        drv = webdriver.Chrome(service=service, options=options)
        drv.set_page_load_timeout(30)
        drv.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
        yield drv
    finally:
        try:
            if drv is not None:
                drv.quit()  # ends Chromium and chromedriver
        finally:
            service.stop()  # no-op when quit already stopped it
            shutil.rmtree(profile, ignore_errors=True)


# --- the test -------------------------------------------------------------------------------------


def screenshot(drv, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / name
    assert drv.save_screenshot(str(path)), f"could not save {path}"
    return path


def dump_failure(drv, server: "Server", prefix: str, extra: str = "") -> None:
    """Keeps what a failed walk saw: a screenshot and the page source under output/ (best
    effort; the original error matters), and prints the URL and the server's log."""
    try:
        screenshot(drv, f"{prefix}failure.png")
        (OUTPUT / f"{prefix}failure.html").write_text(drv.page_source)
    except Exception:  # noqa: BLE001
        pass
    print(f"current url: {drv.current_url}{extra}\n--- server log ---\n{server.log_tail()}")


def button(drv, action: str):
    return drv.find_element(By.XPATH, f"//form[@action='{action}']//button[@type='submit']")


def create_link(server: Server, resource_uid: str) -> tuple[str, str, str]:
    """A Confidential link (Document → passcode by email): (link uid, PortalUrl, token)."""
    status, created = server.api("POST", "/v1/customerlink", {
        "ResourceType": "Document",
        "ResourceUid": resource_uid,
        "RecipientEmail": RECIPIENT,
    })
    assert status == 200, created
    link = created["Link"]
    assert link["RequireOtp"] is True and link["OtpChannel"] == "Email", link
    portal_url = created["PortalUrl"]
    assert portal_url.startswith(f"{server.url}/portal/"), portal_url
    token = portal_url.rsplit("/", 1)[1]
    assert token
    return link["CustomerLinkUID"], portal_url, token


def test_form_posts_need_no_header_override(server, driver):
    """A plain browser, nothing overridden, asks for a code from the landing page (portal pages
    send `Referrer-Policy: no-referrer`, so the post carries `Origin: null`)."""
    _, portal_url, _ = create_link(server, uuid.uuid4().hex)
    wait = WebDriverWait(driver, WAIT)
    driver.get(portal_url)
    wait.until(EC.url_to_be(f"{server.url}/portal"))
    button(driver, "/portal/otp").click()
    wait.until(EC.url_changes(f"{server.url}/portal"))
    wait.until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert driver.current_url == f"{server.url}/portal?m=sent", (
        f"{driver.current_url}: {driver.find_element(By.TAG_NAME, 'h1').text}")
    assert driver.find_element(By.ID, "code").is_displayed()


def test_recipient_opens_confidential_document(server, smtp_sink, resource_app, driver):
    wait = WebDriverWait(driver, WAIT)
    resource_uid = uuid.uuid4().hex
    shots: list[Path] = []

    link_uid, portal_url, token = create_link(server, resource_uid)

    try:
        # 1. Landing: the token is swapped for a cookie and leaves the address bar.
        driver.get(portal_url)
        wait.until(EC.url_to_be(f"{server.url}/portal"))
        assert token not in driver.current_url
        heading = wait.until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
        assert heading.text == f"{TENANT_NAME} shared something with you"
        assert driver.title == TENANT_NAME
        page = driver.page_source
        for secret in (resource_uid, "Document", token):
            assert secret not in page, f"the landing page shows {secret!r} before verification"
        assert not driver.find_elements(By.ID, "code"), "code input shown before a code was sent"
        assert not driver.find_elements(By.XPATH, "//form[@action='/portal/open']")
        cookie = driver.get_cookie("cl_t")
        assert cookie and cookie["httpOnly"] and cookie["path"] == "/portal", cookie
        send = button(driver, "/portal/otp")
        assert send.text == "Send me a code"
        shots.append(screenshot(driver, "01-landing.png"))

        # 2. Ask for a code; it arrives by email; type it in.
        send.click()
        wait.until(EC.url_contains("/portal?m=sent"))
        code_input = wait.until(EC.visibility_of_element_located((By.ID, "code")))
        notice = driver.find_element(By.CSS_SELECTOR, "[role=status]")
        assert "a code is on its way" in notice.text
        label = driver.find_element(By.CSS_SELECTOR, "label[for=code]")
        assert label.text == "One-time code"
        mail = smtp_sink.wait_for(lambda m: RECIPIENT in m.rcpt_tos)
        assert SENDER in str(mail.message["From"]), mail.message["From"]
        match = re.search(r"your code is (\d{6})\b", mail.text())
        assert match, f"no code in the email text: {mail.text()!r}"
        code = match.group(1)
        assert token not in mail.message.as_string(), "the code email carries the link token"
        code_input.send_keys(code)
        assert code_input.get_attribute("value") == code
        shots.append(screenshot(driver, "02-code-entry.png"))

        # 3. Verify: back on the landing page, now allowed to open.
        button(driver, "/portal/verify").click()
        open_button = wait.until(EC.visibility_of_element_located(
            (By.XPATH, "//form[@action='/portal/open']//button[@type='submit']")))
        assert driver.current_url == f"{server.url}/portal?m=verified"
        assert "Code accepted." in driver.page_source
        assert open_button.text == "Open the Document"
        heading = driver.find_element(By.TAG_NAME, "h1")
        assert heading.text == f"{TENANT_NAME} shared a Document with you"
        assert "(0 of 20 used)" in driver.find_element(By.CSS_SELECTOR, "p.small").text
        assert driver.get_cookie("cl_s"), "no session cookie after verifying"
        shots.append(screenshot(driver, "03-verified.png"))

        # 4. Open: one counted view, a hand-off to the resource application with a grant.
        open_button.click()
        wait.until(EC.url_contains(f"{resource_app.base}/Document/{resource_uid}?"))
        resource = wait.until(EC.visibility_of_element_located((By.ID, "resource")))
        assert resource.text == f"Resource {resource_uid} for {RECIPIENT}"
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
        assert query["tenant"] == [server.tenant_id]
        assert len(query["grant"]) == 1
        shots.append(screenshot(driver, "04-resource.png"))
    except Exception:
        dump_failure(driver, server, "", f"\nresource app errors: {resource_app.errors}")
        raise

    # The grant was exchanged exactly once, successfully, and is spent now.
    assert not resource_app.errors, resource_app.errors
    assert len(resource_app.introspections) == 1, resource_app.introspections
    exchange = resource_app.introspections[0]
    assert exchange["grant"] == query["grant"][0]
    reply = exchange["reply"]
    assert reply["Active"] is True
    assert reply["CustomerLinkUID"] == link_uid
    assert reply["ResourceUid"] == resource_uid
    assert reply["RecipientEmail"] == RECIPIENT
    assert resource_app.introspect(exchange["grant"]) == {"Active": False}

    # Screenshots of every page.
    assert [p.name for p in shots] == [
        "01-landing.png", "02-code-entry.png", "03-verified.png", "04-resource.png"]
    for path in shots:
        assert path.is_file(), path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert path.stat().st_size > MIN_PNG_BYTES, f"{path} is only {path.stat().st_size} bytes"

    # The staff view: one view counted, and the access log tells the story in order.
    status, got = server.api("GET", f"/v1/customerlink/{link_uid}")
    assert status == 200, got
    assert got["Link"]["ViewCount"] == 1, got["Link"]
    assert got["Link"]["Status"] == "Active", got["Link"]
    status, log = server.api("GET", f"/v1/customerlink/{link_uid}/log")
    assert status == 200, log
    events = [e["EventType"] for e in log["AccessLog"]]
    wanted = ["LandingViewed", "OtpSent", "OtpVerified", "Opened"]
    positions = [events.index(w) if w in events else -1 for w in wanted]
    assert -1 not in positions and positions == sorted(positions), events
    assert events.count("Opened") == 1, events
    # The code request is logged with the requester when queued, the outcome when sent.
    sent = [(e.get("Outcome"), e.get("DetailMessage")) for e in log["AccessLog"]
            if e["EventType"] == "OtpSent"]
    assert sent == [("Info", "queued for Email"), ("Success", "sent by Email")], sent
    assert len(smtp_sink.mails) == 1, [m.message["Subject"] for m in smtp_sink.mails]


# --- document shares ------------------------------------------------------------------------------


def upload(server: Server, name: str, data: bytes) -> str:
    """`PUT /v1/attachment` with the raw file; answers the AttachmentId."""
    req = urllib.request.Request(server.url + "/v1/attachment", data=data, method="PUT")
    req.add_header("Authorization", f"Bearer {server.staff_key}")
    req.add_header("Accept", "application/json")
    req.add_header("Content-Type", "application/octet-stream")
    req.add_header("Content-Disposition", f'attachment; filename="{name}"')
    with urllib.request.urlopen(req, timeout=WAIT) as r:
        assert r.status == 200
        return json.loads(r.read())["AttachmentId"]


def wait_for_download(folder: Path, name: str, timeout: float = WAIT) -> bytes:
    """The bytes of `folder/name` once Chromium has finished writing it."""
    import time

    deadline = time.monotonic() + timeout
    target = folder / name
    while time.monotonic() < deadline:
        partial = list(folder.glob("*.crdownload"))
        if target.is_file() and not partial:
            return target.read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"no finished download of {name}; the folder holds {list(folder.iterdir())}")


def test_recipient_downloads_a_shared_document(server, smtp_sink, driver, downloads):
    wait = WebDriverWait(driver, WAIT)
    name = "policy-42.txt"
    data = b"".join(b"Policy 42, line %06d\n" % i for i in range(6000))  # > one 64 KiB chunk
    attachment = upload(server, name, data)
    status, created = server.api("POST", "/v1/documentshare", {
        "AttachmentId": attachment,
        "RecipientContactId": 0,
        "RecipientEmail": RECIPIENT,
        "IsAdhoc": True,
        "RequireOtp": True,
        "MaxViews": 2,
    })
    assert status == 200, created
    share_url = created["ShareUrl"]
    assert share_url.startswith(f"{server.url}/share/"), share_url
    token = share_url.rsplit("/", 1)[1]
    share_id = created["DocumentShare"][0]["DocumentShareId"]
    try:
        # 1. Landing: the token becomes a cookie scoped to /share; nothing of the file shows.
        driver.get(share_url)
        wait.until(EC.url_to_be(f"{server.url}/share"))
        heading = wait.until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
        assert heading.text == f"{TENANT_NAME} shared something with you"
        assert name not in driver.page_source and token not in driver.page_source
        cookie = driver.get_cookie("cl_t")
        assert cookie and cookie["httpOnly"] and cookie["path"] == "/share", cookie
        screenshot(driver, "11-share-landing.png")

        # 2. The passcode, by email, typed in.
        button(driver, "/share/otp").click()
        wait.until(EC.url_contains("/share?m=sent"))
        code_input = wait.until(EC.visibility_of_element_located((By.ID, "code")))
        mail = smtp_sink.wait_for(lambda m: RECIPIENT in m.rcpt_tos)
        match = re.search(r"your code is (\d{6})\b", mail.text())
        assert match, f"no code in the email text: {mail.text()!r}"
        code_input.send_keys(match.group(1))
        button(driver, "/share/verify").click()

        # 3. Verified: the document's name and a Download button.
        download = wait.until(EC.visibility_of_element_located(
            (By.XPATH, "//form[@action='/share/download']//button[@type='submit']")))
        assert driver.current_url == f"{server.url}/share?m=verified"
        assert name in driver.page_source
        assert "(0 of 2 used)" in driver.find_element(By.CSS_SELECTOR, "p.small").text
        screenshot(driver, "12-share-verified.png")

        # 4. Download: Chromium saves the file; its bytes are the upload's.
        download.click()
        assert wait_for_download(downloads, name) == data
    except Exception:
        dump_failure(driver, server, "share-")
        raise

    # The staff view: one view counted, logged as a download.
    status, listed = server.api("GET", f"/v1/documentshare/attachment/{attachment}")
    assert status == 200, listed
    assert listed["DocumentShare"][0]["ViewCount"] == 1, listed
    status, log = server.api("GET", f"/v1/documentshare/{share_id}/log")
    assert status == 200, log
    opened = [e.get("DetailMessage") for e in log["AccessLog"] if e["EventType"] == "Opened"]
    assert opened == ["Downloaded, view 1 of 2"], log


# --- accessibility: axe-core on every page, English and Spanish, 320 px and desktop ---------------

WIDTHS = ((320, 640, "320px"), (1280, 800, "desktop"))
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document).then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html)}))))
  .catch(e => done([{id: "axe-error", help: String(e)}]));
"""


def audit(drv, lang: str, name: str) -> None:
    """The current page: in `lang`, script-free, no sideways scrolling at 320 px, and no axe-core
    violation at either width; a screenshot of each width under output/."""
    assert drv.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, name
    assert not drv.find_elements(By.TAG_NAME, "script"), f"{name} carries a script"
    for width, height, label in WIDTHS:
        drv.set_window_size(width, height)
        overflow = drv.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        drv.execute_script(AXE_JS.read_text())
        violations = drv.execute_async_script(AXE_RUN)
        assert violations == [], f"{name} at {label}: {json.dumps(violations, indent=1)}"
        screenshot(drv, f"a11y-{lang}-{name}-{label}.png")
    drv.set_window_size(1024, 768)


def code_for(smtp_sink: SmtpSink, recipient: str) -> str:
    mail = smtp_sink.wait_for(lambda m: recipient in m.rcpt_tos)
    match = re.search(r"\b(\d{6})\b", mail.text())
    assert match, f"no code in the email text: {mail.text()!r}"
    return match.group(1)


def focused(drv):
    return drv.switch_to.active_element


def passcode_by_keyboard(drv, smtp_sink: SmtpSink, recipient: str, base: str) -> None:
    """On the code page: focus order code → Verify → send again, each with a visible focus
    ring; the code typed and sent with Enter (no mouse)."""
    from selenium.webdriver.common.keys import Keys

    code_input = focused(drv)
    assert code_input.get_attribute("id") == "code", "the code field has the focus"
    code_input.send_keys(Keys.TAB)
    assert focused(drv).get_attribute("type") == "submit"
    assert focused(drv).find_element(By.XPATH, "..").get_attribute("action").endswith(f"{base}/verify")
    outline = drv.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), f"no visible focus on Verify ({outline})"
    focused(drv).send_keys(Keys.TAB)
    assert focused(drv).find_element(By.XPATH, "..").get_attribute("action").endswith(f"{base}/otp")
    code_input.send_keys(code_for(smtp_sink, recipient), Keys.ENTER)
    WebDriverWait(drv, WAIT).until(EC.url_contains(f"{base}?m=verified"))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_portal_page_is_accessible_small_and_in_one_language(
        server, smtp_sink, driver, lang):
    assert AXE_JS.is_file(), f"no axe-core at {AXE_JS} (run.sh installs it)"
    wait = WebDriverWait(driver, WAIT)
    driver.set_script_timeout(WAIT)
    # Pages of links without a language (here: the unavailable one) follow Accept-Language.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": lang}})
    recipient = f"ann.{lang}@example.com"
    status, created = server.api("POST", "/v1/customerlink", {
        "ResourceType": "Document", "ResourceUid": uuid.uuid4().hex,
        "RecipientEmail": recipient, "Locale": lang,
    })
    assert status == 200 and created["Link"]["Locale"] == lang, created
    try:
        driver.get(created["PortalUrl"])
        wait.until(EC.url_to_be(f"{server.url}/portal"))
        logo = driver.find_element(By.CSS_SELECTOR, "img.logo")
        assert logo.get_attribute("alt") and driver.execute_script(
            "return arguments[0].naturalWidth", logo) == 96, "the tenant's logo loads"
        audit(driver, lang, "01-landing")
        button(driver, "/portal/otp").send_keys("\n")
        wait.until(EC.url_contains("/portal?m=sent"))
        audit(driver, lang, "02-code")
        passcode_by_keyboard(driver, smtp_sink, recipient, "/portal")
        audit(driver, lang, "03-verified")
        driver.get(f"{server.url}/portal/{'A' * 43}")
        wait.until(EC.url_to_be(f"{server.url}/portal"))
        audit(driver, lang, "04-unavailable")

        share_to = f"share.{lang}@example.com"
        attachment = upload(server, f"informe-{lang}.txt", b"hola\n")
        status, shared = server.api("POST", "/v1/documentshare", {
            "AttachmentId": attachment, "RecipientContactId": 0, "RecipientEmail": share_to,
            "IsAdhoc": True, "RequireOtp": True, "Locale": lang,
        })
        assert status == 200, shared
        driver.get(shared["ShareUrl"])
        wait.until(EC.url_to_be(f"{server.url}/share"))
        audit(driver, lang, "11-share-landing")
        button(driver, "/share/otp").send_keys("\n")
        wait.until(EC.url_contains("/share?m=sent"))
        passcode_by_keyboard(driver, smtp_sink, share_to, "/share")
        audit(driver, lang, "12-share-verified")
    except Exception:
        dump_failure(driver, server, f"a11y-{lang}-")
        raise


# --- development mode -----------------------------------------------------------------------------


def newest_code(driver, server: Server) -> str:
    """The passcode in the newest message of the dev mailbox page."""
    driver.get(f"{server.url}/dev/mailbox")
    newest = driver.find_element(By.CSS_SELECTOR, "article.message pre")
    match = re.search(r"your code is (\d{6})\b", newest.text)
    assert match, f"no code in the newest message: {newest.text!r}"
    return match.group(1)


def test_dev_mode_walks_from_the_mailbox_to_the_resource_page(dev_server, driver):
    """The README's walk-through, clicked: the link's email in /dev/mailbox → the portal → the
    passcode read from the mailbox page → open → /dev/resource showing what a resource
    application receives."""
    server = dev_server
    wait = WebDriverWait(driver, WAIT)
    resource_uid = uuid.uuid4().hex
    status, created = server.api("POST", "/v1/customerlink", {
        "ResourceType": "Document", "ResourceUid": resource_uid,
        "RecipientEmail": RECIPIENT, "DeliverEmail": True,
    })
    assert status == 200 and created["DeliveryErrors"] == [], created
    try:
        # 1. The mailbox: the link's email, its URL a link; click it.
        driver.get(f"{server.url}/dev/mailbox")
        link = wait.until(EC.element_to_be_clickable(
            (By.XPATH, f"//article//a[starts-with(@href, '{server.url}/portal/')]")))
        assert link.get_attribute("href") == created["PortalUrl"]
        screenshot(driver, "21-dev-mailbox.png")
        link.click()
        wait.until(EC.url_to_be(f"{server.url}/portal"))

        # 2. Ask for a code; read it from the mailbox page; enter it on the portal.
        button(driver, "/portal/otp").click()
        wait.until(EC.url_contains("/portal?m=sent"))
        code = None
        for _ in range(50):
            try:
                code = newest_code(driver, server)
                break
            except (AssertionError, Exception):  # noqa: BLE001 (not delivered yet)
                import time
                time.sleep(0.2)
        assert code, "no passcode reached the mailbox"
        driver.get(f"{server.url}/portal")
        code_input = wait.until(EC.visibility_of_element_located((By.ID, "code")))
        code_input.send_keys(code)
        button(driver, "/portal/verify").click()
        open_button = wait.until(EC.visibility_of_element_located(
            (By.XPATH, "//form[@action='/portal/open']//button[@type='submit']")))

        # 3. Open: the built-in policy hands off to /dev/resource, which exchanged the grant.
        open_button.click()
        wait.until(EC.url_contains(f"{server.url}/dev/resource?"))
        wait.until(EC.visibility_of_element_located((By.TAG_NAME, "dl")))
        shown = dict(zip(
            [e.text for e in driver.find_elements(By.TAG_NAME, "dt")],
            [e.text for e in driver.find_elements(By.TAG_NAME, "dd")],
        ))
        screenshot(driver, "22-dev-resource.png")
    except Exception:
        dump_failure(driver, server, "dev-")
        raise
    assert shown["Active"] == "true", shown
    assert shown["ResourceUid"] == resource_uid, shown
    assert shown["CustomerLinkUID"] == created["Link"]["CustomerLinkUID"], shown
    assert shown["RecipientEmail"] == RECIPIENT, shown
    assert shown["ResourceType"] == "Document", shown
