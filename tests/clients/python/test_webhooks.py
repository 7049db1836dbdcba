"""Signed webhooks (issue 15 §1) checked with the Standard Webhooks reference library
(PyPI `standardwebhooks`): an endpoint registered with `PUT /v1/webhook/{Name}` pointing at a
receiver this test runs on loopback, a link created, and the `link.created` event the outbox
worker POSTs verified by `Webhook(secret).verify` — the signature and the timestamp's
tolerance. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh sets them).
"""

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from support import API_KEY, BASE_URL, new_email, new_resource_uid

HEADERS = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}


class Receiver(HTTPServer):
    """Records each POST (headers and raw body) and answers 204."""

    def __init__(self):
        self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                length = int(handler.headers.get("Content-Length", "0"))
                body = handler.rfile.read(length).decode("utf-8")
                self.received.append((dict(handler.headers.items()), body))
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.shutdown()
    r.server_close()


def wait_for(received, resource_uid, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for headers, body in list(received):
            if resource_uid in body.replace("-", ""):
                return headers, body
        time.sleep(0.2)
    pytest.fail(f"no webhook for {resource_uid} within {seconds} s")


def test_a_link_created_event_verifies_with_the_reference_library(receiver):
    name = f"py-{uuid.uuid4().hex[:8]}"
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    put = requests.put(
        f"{BASE_URL}/v1/webhook/{name}",
        json={"Url": url, "Events": ["link.created"]},
        headers=HEADERS,
        timeout=10,
    )
    assert put.status_code == 200, put.text
    secret = put.json()["Secret"]
    assert secret.startswith("whsec_")
    resource_uid = new_resource_uid()
    try:
        created = requests.post(
            f"{BASE_URL}/v1/customerlink",
            json={"ResourceType": "Quote", "ResourceUid": resource_uid, "RecipientEmail": new_email()},
            headers=HEADERS,
            timeout=10,
        )
        assert created.status_code == 200, created.text
        headers, body = wait_for(receiver.received, resource_uid)
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "link.created"
        assert event["data"]["ResourceType"] == "Quote"
        token = created.json()["PortalUrl"].rsplit("/", 1)[-1]
        assert token not in body, "never the token"
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace("Quote", "Quota"), headers)
    finally:
        requests.delete(f"{BASE_URL}/v1/webhook/{name}", headers=HEADERS, timeout=10)
