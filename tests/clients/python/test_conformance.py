"""Drives a running customerlink with the official ServiceStack Python client (PyPI `servicestack`).

Needs CUSTOMERLINK_URL (where the server listens) and CUSTOMERLINK_KEY (an API key); optional
CUSTOMERLINK_PUBLIC_URL (the server's public URL when it differs from CUSTOMERLINK_URL).
`tests/clients/run.sh` starts a server on a fresh data folder and sets them.

The client posts and gets through ServiceStack's predefined `/api/{RequestDtoName}` route with
camelCase member names, and reads camelCase replies into the snake_case dataclasses of dtos.py.
"""

import datetime
import os
import re
import uuid

import pytest
from servicestack import JsonServiceClient, WebServiceException

from dtos import (
    Contact,
    ContactPutRequest,
    ContactResponse,
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkExtended,
    CustomerLinkListRequest,
    CustomerLinkListResponse,
    CustomerLinkQueryRequest,
    CustomerLinkRequest,
    CustomerLinkResponse,
    CustomerLinkRevokeRequest,
)
from support import BASE_URL, api_client, new_resource_uid, quote_request

PUBLIC_URL = os.environ.get("CUSTOMERLINK_PUBLIC_URL", BASE_URL).rstrip("/")

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
# The Quote tier of the shipped policy: Standard, no OTP, 7 days, 50 views.
QUOTE_HOURS = 168
QUOTE_VIEWS = 50
# Server timestamps are cut to whole milliseconds; allow for that and a little clock slack.
SLACK = datetime.timedelta(seconds=2)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Recorder:
    """Keeps the URL of every request the client sends, to show which route it took."""

    def __init__(self):
        self.urls = []

    def __call__(self, info):
        self.urls.append(info.url)

    def paths(self):
        return [u[len(BASE_URL):] for u in self.urls]


def make_client(with_key=True) -> JsonServiceClient:
    client = api_client(with_key)
    client.request_filter = Recorder()
    return client


@pytest.fixture
def client() -> JsonServiceClient:
    """Overrides conftest's: this suite's client records the routes it took."""
    return make_client()


def create_quote_link(client, resource_uid=None, email=None):
    """Creates an ad-hoc link to a Quote; returns (request, response, time before, time after)."""
    request = quote_request(resource_uid, email)
    before = utc_now()
    response = client.post(request)
    after = utc_now()
    return request, response, before, after


def assert_utc_between(value, before, after):
    assert isinstance(value, datetime.datetime)
    assert value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0)
    assert before - SLACK <= value <= after + SLACK, (before, value, after)


def assert_fresh_adhoc_quote_link(link, request, before, after):
    """Every member of a just-created ad-hoc Quote link, as the client read it."""
    assert isinstance(link, CustomerLinkExtended)
    assert isinstance(link.customer_link_id, int) and not isinstance(link.customer_link_id, bool)
    assert link.customer_link_id >= 1
    assert isinstance(link.customer_link_u_i_d, str) and HEX32.match(link.customer_link_u_i_d)
    assert isinstance(link.token_hash, str) and HEX64.match(link.token_hash)
    assert link.resource_type == "Quote"
    assert link.resource_uid == request.resource_uid
    assert link.sensitivity_tier == "Standard"
    assert link.require_otp is False
    assert link.otp_channel is None
    assert link.delivery_channels == ""  # neither DeliverEmail nor DeliverSms was asked for
    assert link.recipient_contact_id is None
    assert link.recipient_email == request.recipient_email
    assert link.recipient_phone is None
    assert link.sms_consent_snapshot is False
    assert isinstance(link.created_by_user_id, str) and HEX32.match(link.created_by_user_id)
    assert link.created_by_user_id != "0" * 32
    assert link.created_by_agent_id is None
    assert_utc_between(link.created_at_utc, before, after)
    assert link.expires_at_utc == link.created_at_utc + datetime.timedelta(hours=QUOTE_HOURS)
    assert link.max_views == QUOTE_VIEWS
    assert isinstance(link.view_count, int) and link.view_count == 0
    assert link.revoked_at_utc is None
    assert link.revoked_by_user_id is None
    assert isinstance(link.tenant_id, str) and HEX32.match(link.tenant_id)
    assert link.tenant_id != "0" * 32
    assert link.recipient_display_name == request.recipient_email
    assert link.recipient_type == "AdHoc"
    assert link.status == "Active"


def test_create_adhoc_link_returns_every_member(client):
    request, response, before, after = create_quote_link(client)

    assert client.request_filter.paths() == ["/api/CustomerLinkCreateRequest"]
    assert isinstance(response, CustomerLinkCreateResponse)
    assert response.response_status is None
    assert_fresh_adhoc_quote_link(response.link, request, before, after)
    assert isinstance(response.portal_url, str)
    assert response.delivery_errors == []


def test_create_portal_url_is_under_the_public_url(client):
    _, response, _, _ = create_quote_link(client)

    prefix = PUBLIC_URL + "/portal/"
    assert response.portal_url.startswith(prefix), (response.portal_url, prefix)
    token = response.portal_url[len(prefix):]
    assert re.match(r"^[A-Za-z0-9_-]{20,}$", token), token


def test_two_links_get_distinct_ids_and_secrets(client):
    _, first, _, _ = create_quote_link(client)
    _, second, _, _ = create_quote_link(client)

    assert second.link.customer_link_id > first.link.customer_link_id
    assert second.link.customer_link_u_i_d != first.link.customer_link_u_i_d
    assert second.link.token_hash != first.link.token_hash
    assert second.portal_url != first.portal_url


def test_list_by_resource_returns_its_links_newest_first(client):
    resource_uid = new_resource_uid()
    _, older, _, _ = create_quote_link(client, resource_uid=resource_uid)
    _, newer, _, _ = create_quote_link(client, resource_uid=resource_uid)
    create_quote_link(client)  # another resource: must not be listed

    response = client.get(CustomerLinkListRequest(resource_type="Quote", resource_uid=resource_uid))

    assert client.request_filter.paths()[-1] == (
        f"/api/CustomerLinkListRequest?resourceType=Quote&resourceUid={resource_uid}"
    )
    assert isinstance(response, CustomerLinkListResponse)
    assert response.response_status is None
    assert response.total is None  # only the tenant-wide query pages and counts
    assert [link.customer_link_u_i_d for link in response.links] == [
        newer.link.customer_link_u_i_d,
        older.link.customer_link_u_i_d,
    ]
    # Every member reads back exactly as the create returned it.
    assert response.links == [newer.link, older.link]


def test_get_by_uid_returns_the_link(client):
    request, created, before, after = create_quote_link(client)
    uid = created.link.customer_link_u_i_d

    response = client.get(CustomerLinkRequest(customer_link_u_i_d=uid))

    assert client.request_filter.paths()[-1] == f"/api/CustomerLinkRequest?customerLinkUID={uid}"
    assert isinstance(response, CustomerLinkResponse)
    assert response.response_status is None
    assert_fresh_adhoc_quote_link(response.link, request, before, after)
    assert response.link == created.link


def test_query_by_status_pages_the_tenants_links(client):
    _, created, _, _ = create_quote_link(client)

    response = client.get(CustomerLinkQueryRequest(status="Active", skip=0, take=500))

    assert isinstance(response, CustomerLinkListResponse)
    assert response.response_status is None
    assert isinstance(response.total, int) and response.total >= 1
    assert len(response.links) <= response.total
    assert all(link.status == "Active" for link in response.links)
    matches = [l for l in response.links if l.customer_link_u_i_d == created.link.customer_link_u_i_d]
    assert matches == [created.link]


def test_query_without_arguments_is_readable(client):
    create_quote_link(client)

    response = client.get(CustomerLinkQueryRequest())

    assert client.request_filter.paths()[-1] == "/api/CustomerLinkQueryRequest"
    assert isinstance(response.total, int) and response.total >= 1
    assert len(response.links) >= 1


def test_revoke_via_api_route_then_again_via_custom_route(client):
    request, created, _, _ = create_quote_link(client)
    uid = created.link.customer_link_u_i_d

    before = utc_now()
    revoked = client.post(CustomerLinkRevokeRequest(customer_link_u_i_d=uid))
    after = utc_now()

    assert client.request_filter.paths()[-1] == "/api/CustomerLinkRevokeRequest"
    assert isinstance(revoked, CustomerLinkResponse)
    assert revoked.response_status is None
    link = revoked.link
    assert isinstance(link, CustomerLinkExtended)
    assert link.status == "Revoked"
    assert_utc_between(link.revoked_at_utc, before, after)
    assert link.revoked_by_user_id == created.link.created_by_user_id  # the key's user
    # Nothing else changed.
    unchanged = dict(vars(created.link), revoked_at_utc=link.revoked_at_utc,
                     revoked_by_user_id=link.revoked_by_user_id, status="Revoked")
    assert vars(link) == unchanged

    # GET sees the revocation.
    fetched = client.get(CustomerLinkRequest(customer_link_u_i_d=uid))
    assert fetched.link == link

    # Revoking again, through the custom route, is a no-op that answers with the same link.
    again = client.post_url(f"/v1/customerlink/{uid}/revoke",
                            CustomerLinkRevokeRequest(customer_link_u_i_d=uid))
    assert client.request_filter.paths()[-1] == f"/v1/customerlink/{uid}/revoke"
    assert isinstance(again, CustomerLinkResponse)
    assert again.link == link

    # The resource listing shows it revoked too.
    listed = client.get(CustomerLinkListRequest(resource_type="Quote", resource_uid=request.resource_uid))
    assert listed.links == [link]


def test_create_through_json_reply_route(client):
    client.set_base_path("")  # ServiceStack's older predefined route: /json/reply/{Op}
    request, response, before, after = create_quote_link(client)

    assert client.request_filter.paths() == ["/json/reply/CustomerLinkCreateRequest"]
    assert_fresh_adhoc_quote_link(response.link, request, before, after)
    assert response.delivery_errors == []


def test_link_to_a_contact_copies_its_addresses_and_consent(client):
    contact_id = int(uuid.uuid4().int % 1_000_000) + 1
    put = client.put(ContactPutRequest(
        contact_id=contact_id, first_name="Bo", last_name="Lind", email_work="bo@example.com",
        phone="+46701234567", s_m_s_opt_in=True, active=True))

    assert client.request_filter.paths()[-1] == "/api/ContactPutRequest"
    assert isinstance(put, ContactResponse)
    assert put.response_status is None
    assert isinstance(put.contact, Contact)
    assert put.contact.contact_id == contact_id
    assert isinstance(put.contact.contact_g_u_i_d, str) and HEX32.match(put.contact.contact_g_u_i_d)
    assert (put.contact.first_name, put.contact.last_name) == ("Bo", "Lind")
    assert put.contact.email_work == "bo@example.com"
    assert put.contact.phone == "+46701234567"
    assert put.contact.active is True
    assert put.contact.deleted is False
    assert put.contact.do_not_contact is False
    # Not checked: put.contact.s_m_s_opt_in. The server writes `SMSOptIn` camelCased the
    # ServiceStack way, `smsOptIn`; the client looks only for `s_m_s_opt_in` and `sMSOptIn`.
    # The consent itself is checked below through SmsConsentSnapshot.

    resource_uid = new_resource_uid()
    before = utc_now()
    response = client.post(CustomerLinkCreateRequest(
        resource_type="Claim", resource_uid=resource_uid, recipient_contact_id=contact_id))
    after = utc_now()

    link = response.link
    assert link.recipient_type == "Contact"
    assert link.recipient_contact_id == contact_id
    assert link.recipient_email == "bo@example.com"
    assert link.recipient_phone == "+46701234567"
    assert link.recipient_display_name == "Bo Lind"
    assert link.sms_consent_snapshot is True
    # Claim -> Restricted tier: OTP, 1 day, 3 views.
    assert link.resource_type == "Claim" and link.resource_uid == resource_uid
    assert link.sensitivity_tier == "Restricted"
    assert link.require_otp is True
    assert link.otp_channel in ("Email", "Sms")
    assert_utc_between(link.created_at_utc, before, after)
    assert link.expires_at_utc == link.created_at_utc + datetime.timedelta(hours=24)
    assert link.max_views == 3
    assert link.status == "Active"
    assert response.delivery_errors == []


def test_validation_error_names_each_bad_field(client):
    with pytest.raises(WebServiceException) as caught:
        client.post(CustomerLinkCreateRequest(resource_type="Quote", recipient_email="not-an-email"))

    e = caught.value
    assert e.status_code == 400
    status = e.response_status
    assert status is not None
    assert isinstance(status.error_code, str) and status.error_code
    assert isinstance(status.message, str) and status.message
    assert sorted(err.field_name for err in status.errors) == ["RecipientEmail", "ResourceUid"]
    for err in status.errors:
        assert isinstance(err.error_code, str) and err.error_code
        assert isinstance(err.message, str) and err.message
    by_field = {err.field_name: err for err in status.errors}
    assert by_field["ResourceUid"].error_code == "NotEmpty"
    assert by_field["RecipientEmail"].error_code == "Email"
    # The top-level status repeats the first field error, as ServiceStack does.
    assert (status.error_code, status.message) == (
        status.errors[0].error_code, status.errors[0].message)


def test_unknown_link_is_404(client):
    uid = new_resource_uid()
    with pytest.raises(WebServiceException) as caught:
        client.get(CustomerLinkRequest(customer_link_u_i_d=uid))

    e = caught.value
    assert e.status_code == 404
    assert e.response_status is not None
    assert e.response_status.error_code == "NotFound"
    assert uid in e.response_status.message
    assert e.response_status.errors == []


def test_missing_key_is_401_with_a_readable_status():
    client = make_client(with_key=False)
    with pytest.raises(WebServiceException) as caught:
        client.get(CustomerLinkRequest(customer_link_u_i_d=new_resource_uid()))

    e = caught.value
    assert e.status_code == 401
    assert e.response_status is not None, "the 401 body did not reach the client as a ResponseStatus"
    assert e.response_status.error_code == "Unauthorized"
    assert isinstance(e.response_status.message, str) and e.response_status.message
