"""ServiceStack AutoBatch with the official Python client (issue 11 item 2): `send_all` posts a
list of request DTOs to `/api/{Op}[]` and reads the list of replies; `send_all_oneway` posts to
the same route. The first failure stops the batch and is raised with the failing index in
`ResponseStatus.meta["AutoBatchIndex"]`. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh).
"""

import pytest
from servicestack import WebServiceException

from dtos import (
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkRequest,
    CustomerLinkResponse,
)
from support import BASE_URL, api_client, new_resource_uid, quote_request



class Seen:
    """Remembers the paths and the X-AutoBatch-Completed headers of the replies."""

    def __init__(self):
        self.paths = []
        self.completed = []

    def request(self, info):
        self.paths.append(info.url[len(BASE_URL):])

    def response(self, res):
        self.completed.append(res.headers.get("X-AutoBatch-Completed"))

    def error(self, res, _exception):
        if res is not None:  # the client also reports the wrapped exception, without a reply
            self.completed.append(res.headers.get("X-AutoBatch-Completed"))


def make_client():
    client = api_client(agent="AcmeBatcher/1.0")
    seen = Seen()
    client.request_filter = seen.request
    client.response_filter = seen.response
    client.exception_filter = seen.error
    return client, seen


def create_request(email=None, resource_uid=None):
    return quote_request(resource_uid, email)


def test_send_all_answers_every_reply_in_order():
    client, seen = make_client()
    requests = [create_request() for _ in range(3)]
    responses = client.send_all(requests)

    assert seen.paths == ["/api/CustomerLinkCreateRequest[]"]
    assert seen.completed == ["3"]
    assert len(responses) == 3
    assert all(isinstance(r, CustomerLinkCreateResponse) for r in responses)
    assert [r.link.resource_uid for r in responses] == [q.resource_uid for q in requests]
    ids = [r.link.customer_link_id for r in responses]
    assert ids == sorted(ids) and len(set(ids)) == 3

    fetched = client.send_all([CustomerLinkRequest(customer_link_u_i_d=r.link.customer_link_u_i_d)
                               for r in responses])
    assert all(isinstance(r, CustomerLinkResponse) for r in fetched)
    assert [r.link.customer_link_id for r in fetched] == ids


def test_send_all_stops_at_the_first_failure():
    client, seen = make_client()
    bad = CustomerLinkCreateRequest(resource_type="Quote", recipient_email="a@b.co")
    with pytest.raises(WebServiceException) as raised:
        client.send_all([create_request(), bad, create_request()])
    error = raised.value
    assert error.status_code == 400
    assert error.response_status.meta == {"AutoBatchIndex": "1"}
    assert [e.field_name for e in error.response_status.errors] == ["ResourceUid"]
    assert seen.completed == ["1"]


def test_send_all_oneway_runs_every_request():
    client, seen = make_client()
    uid = new_resource_uid()
    client.send_all_oneway([create_request(resource_uid=uid), create_request(resource_uid=uid)])
    assert seen.paths == ["/api/CustomerLinkCreateRequest[]"]
    assert seen.completed == ["2"]
