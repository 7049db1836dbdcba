"""Reply casing with the official Python client (issue 11 item 1), whatever its User-Agent.

The client calls the predefined `/api/{Op}` route with `Accept: application/json` and reads only
camelCase/snake_case members, so every call must come back camelCase — including calls that
name no member of the request DTO (`get_url`, `delete_url`, a DTO whose members are all None,
a POST of `{}`). Plain HTTP callers of the custom routes keep PascalCase, whatever their
User-Agent or unrelated query keys. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh).
"""

import pytest
import requests
from servicestack import JsonServiceClient, WebServiceException

from dtos import (
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkListResponse,
    CustomerLinkQueryRequest,
    CustomerLinkRequest,
    CustomerLinkResponse,
)
from support import BASE_URL, API_KEY, api_client, new_resource_uid, quote_request


AGENTS = ["AcmeIntegration/2.0 (+https://acme.example)", "python-requests/2.34.2", "node"]


def make_client(agent: str) -> JsonServiceClient:
    return api_client(agent=agent)


def create(client) -> CustomerLinkCreateResponse:
    return client.post(quote_request())


@pytest.mark.parametrize("agent", AGENTS)
def test_member_less_calls_read_every_member(agent):
    client = make_client(agent)
    created = create(client)
    uid = created.link.customer_link_u_i_d
    assert uid and created.portal_url

    # A DTO whose members are all None: GET /api/CustomerLinkQueryRequest, no query string.
    listed = client.get(CustomerLinkQueryRequest())
    assert isinstance(listed, CustomerLinkListResponse)
    assert listed.total is not None and listed.total >= 1
    assert all(link.customer_link_u_i_d for link in listed.links)

    # get_url on the predefined route, no arguments at all.
    by_url = client.get_url("/api/CustomerLinkQueryRequest", CustomerLinkListResponse)
    assert by_url.total == listed.total

    got = client.get(CustomerLinkRequest(customer_link_u_i_d=uid))
    assert got.link.customer_link_u_i_d == uid

    # A custom route names no member in its query: `?jsconfig=eccn` (ServiceStack's own
    # switch) asks for camelCase there.
    on_route = client.get_url(f"/v1/customerlink/{uid}", CustomerLinkResponse,
                              args={"jsconfig": "eccn"})
    assert on_route.link.customer_link_u_i_d == uid
    revoked = client.delete_url(f"/v1/customerlink/{uid}", CustomerLinkResponse,
                                args={"jsconfig": "eccn"})
    assert revoked.link.status == "Revoked"
    assert revoked.link.revoked_at_utc is not None


@pytest.mark.parametrize("agent", AGENTS)
def test_member_less_posts_get_a_readable_error(agent):
    client = make_client(agent)
    with pytest.raises(WebServiceException) as raised:
        client.post(CustomerLinkCreateRequest())
    status = raised.value.response_status
    assert raised.value.status_code == 400
    assert status is not None and status.error_code and status.errors
    assert {e.field_name for e in status.errors} >= {"ResourceType", "ResourceUid"}

    with pytest.raises(WebServiceException) as raised:
        client.post_url("/api/CustomerLinkCreateRequest", "{}", CustomerLinkCreateResponse)
    assert raised.value.response_status.errors

    with pytest.raises(WebServiceException) as raised:
        client.get_url("/api/NoSuchRequest", CustomerLinkResponse)
    assert raised.value.status_code == 404
    assert raised.value.response_status.error_code == "NotFound"


@pytest.mark.parametrize("agent", [None, "python-requests/2.34.2", "curl/8.5.0"])
def test_plain_http_on_custom_routes_gets_pascal_case(agent):
    uid = create(make_client("AcmeIntegration/2.0")).link.customer_link_u_i_d
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if agent:
        headers["User-Agent"] = agent
    for query in ["", "?utm_source=newsletter", "?v=1"]:
        reply = requests.get(f"{BASE_URL}/v1/customerlink/{uid}{query}", headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["Link"]["CustomerLinkUID"] == uid, body
        assert "link" not in body
    missing = requests.get(f"{BASE_URL}/v1/customerlink/{new_resource_uid()}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["ResponseStatus"]["ErrorCode"] == "NotFound"
