"""Document shares through the official Python client (issue 17): an attachment uploaded over
plain HTTP, then create, list by attachment, resend, access log and revoke through the typed
DTOs of dtos.py, which declare the platform's `DocumentShare*` members (no TenantId,
non-nullable ExpiresAtUtc and counts). The client sends them to `/api/{Op}` in camelCase and
reads the camelCase replies. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh sets them).
"""

import datetime
import re
import uuid

import pytest
import requests
from servicestack import WebServiceException

from dtos import (
    DocumentShareAccessLog,
    DocumentShareCreateRequest,
    DocumentShareExtended,
    DocumentShareListRequest,
    DocumentShareLogRequest,
    DocumentShareLogResponse,
    DocumentShareResendRequest,
    DocumentShareResponse,
    DocumentShareRevokeRequest,
)
from support import API_KEY, BASE_URL, new_email

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
# The shipped policy's tier for documents: Confidential, OTP by email, 72 hours, 20 views.
DOCUMENT_HOURS = 72
DOCUMENT_VIEWS = 20


class Paths:
    """Keeps the path of every request the client sends, to show which route it took."""

    def __init__(self):
        self.seen = []

    def __call__(self, info):
        self.seen.append(info.url[len(BASE_URL):])


@pytest.fixture
def client(client):
    client.request_filter = Paths()
    return client


def upload(name="policy.pdf", data=b"%PDF-1.7 a signed policy") -> str:
    """PUTs a file as a raw body (the client has no typed upload for PUT); its AttachmentId."""
    reply = requests.put(
        f"{BASE_URL}/v1/attachment",
        data=data,
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    attachment_id = reply.json()["AttachmentId"]
    assert HEX32.match(attachment_id), attachment_id
    return attachment_id


def share(client, attachment_id, **members) -> DocumentShareResponse:
    """An ad-hoc share of the attachment with a fresh address; the counts left at 0."""
    request = DocumentShareCreateRequest(
        attachment_id=attachment_id, recipient_email=new_email(), is_adhoc=True, **members)
    return client.post(request)


def only(response: DocumentShareResponse) -> DocumentShareExtended:
    assert isinstance(response, DocumentShareResponse)
    assert response.response_status is None
    assert len(response.document_share) == 1, response
    one = response.document_share[0]
    assert isinstance(one, DocumentShareExtended)
    return one


def test_create_answers_a_list_of_one_with_the_document_tier(client):
    attachment_id = upload()
    request = DocumentShareCreateRequest(
        attachment_id=attachment_id, recipient_email=new_email(), is_adhoc=True)

    response = client.post(request)

    assert client.request_filter.seen == ["/api/DocumentShareCreateRequest"]
    one = only(response)
    assert one.document_share_id >= 1
    assert HEX32.match(one.document_share_u_i_d)
    assert HEX64.match(one.token_hash)
    assert one.attachment_id == attachment_id
    assert one.attachment_name == "policy.pdf"
    assert (one.sensitivity_tier, one.require_otp, one.otp_channel) == ("Confidential", True, "Email")
    assert one.recipient_email == request.recipient_email
    assert one.recipient_contact_id is None  # 0 on the request: no contact
    assert (one.recipient_type, one.status) == ("AdHoc", "Active")
    assert one.max_views == DOCUMENT_VIEWS and one.view_count == 0  # 0 took the tier's default
    assert isinstance(one.created_at_utc, datetime.datetime)
    assert one.expires_at_utc - one.created_at_utc == datetime.timedelta(hours=DOCUMENT_HOURS)
    assert one.revoked_at_utc is None and one.revoked_by_user_id is None
    assert response.share_url.startswith(BASE_URL + "/share/"), response.share_url


def test_the_caller_may_tighten_the_tier(client):
    attachment_id = upload()

    one = only(share(client, attachment_id, sensitivity_tier="Restricted", require_otp=True,
                     otp_channel="Email", expires_in_hours=2, max_views=1))

    assert one.sensitivity_tier == "Restricted"
    assert one.max_views == 1
    assert one.expires_at_utc - one.created_at_utc == datetime.timedelta(hours=2)


def test_list_resend_log_and_revoke_by_share_number(client):
    attachment_id = upload()
    first = share(client, attachment_id)
    second = share(client, attachment_id)
    upload()  # another attachment's shares are not listed

    listed = client.get(DocumentShareListRequest(attachment_id=attachment_id))

    assert client.request_filter.seen[-1] == (
        f"/api/DocumentShareListRequest?attachmentId={attachment_id}")
    assert isinstance(listed, DocumentShareResponse)
    assert listed.share_url is None
    assert listed.document_share == [only(second), only(first)]  # newest first, member for member

    number = only(first).document_share_id
    resent = client.post(DocumentShareResendRequest(document_share_id=number))
    assert client.request_filter.seen[-1] == "/api/DocumentShareResendRequest"
    assert only(resent).document_share_id == number
    assert only(resent).token_hash != only(first).token_hash
    assert resent.share_url != first.share_url

    revoked = client.post(DocumentShareRevokeRequest(document_share_id=number))
    assert client.request_filter.seen[-1] == "/api/DocumentShareRevokeRequest"
    assert only(revoked).status == "Revoked"
    assert isinstance(only(revoked).revoked_at_utc, datetime.datetime)
    assert only(revoked).revoked_by_user_id == only(first).created_by_user_id

    log = client.get(DocumentShareLogRequest(document_share_id=number))
    assert client.request_filter.seen[-1] == f"/api/DocumentShareLogRequest?documentShareId={number}"
    assert isinstance(log, DocumentShareLogResponse)
    assert log.response_status is None
    assert all(isinstance(row, DocumentShareAccessLog) for row in log.access_log)
    assert [row.event_type for row in log.access_log] == ["Created", "Resent", "Revoked"]
    assert {row.document_share_id for row in log.access_log} == {number}
    ids = [row.document_share_access_log_id for row in log.access_log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(row.outcome == "Success" for row in log.access_log)


def test_revoke_with_the_delete_verb(client):
    attachment_id = upload()
    number = only(share(client, attachment_id)).document_share_id

    deleted = client.delete(DocumentShareRevokeRequest(document_share_id=number))

    assert client.request_filter.seen[-1] == (
        f"/api/DocumentShareRevokeRequest?documentShareId={number}")
    assert only(deleted).status == "Revoked"


def test_a_weaker_tier_is_refused_field_by_field(client):
    attachment_id = upload()
    with pytest.raises(WebServiceException) as caught:
        share(client, attachment_id, sensitivity_tier="Standard")

    e = caught.value
    assert e.status_code == 400
    assert [err.field_name for err in e.response_status.errors] == ["SensitivityTier"]


def test_an_unknown_share_is_404(client):
    with pytest.raises(WebServiceException) as caught:
        client.get(DocumentShareLogRequest(document_share_id=int(uuid.uuid4().int % 10**9) + 10**6))

    assert caught.value.status_code == 404
    assert caught.value.response_status.error_code == "NotFound"
