"""Errors as the official ServiceStack Python client (PyPI `servicestack`) reads them (issue 11
items 3, 5, 7): FluentValidation's messages and `meta`, ServiceStack's bind and 405 texts, and XML
error bodies rooted at the operation's response DTO (the Python client has no XML mode, so those
go through `requests`, which it is built on).

Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY; `tests/clients/run.sh` sets them.
"""

import xml.etree.ElementTree as ET

import pytest
import requests
from servicestack import WebServiceException

from dtos import CustomerLinkCreateRequest, CustomerLinkQueryRequest, CustomerLinkRequest
from support import BASE_URL, API_KEY, new_resource_uid

API_NS = "http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal"
SS_NS = "http://schemas.servicestack.net/types"


def failure(call) -> WebServiceException:
    with pytest.raises(WebServiceException) as caught:
        call()
    return caught.value


def test_validation_errors_carry_fluent_validation_meta(client):
    e = failure(lambda: client.post(CustomerLinkCreateRequest(
        resource_type="Quote", resource_uid=new_resource_uid(),
        recipient_email="not-an-email", max_views=0)))

    assert e.status_code == 400
    status = e.response_status
    by_field = {err.field_name: err for err in status.errors}
    email = by_field["RecipientEmail"]
    assert (email.error_code, email.message) == (
        "Email", "'Recipient Email' is not a valid email address.")
    assert email.meta == {"PropertyName": "Recipient Email", "PropertyValue": "not-an-email"}
    views = by_field["MaxViews"]
    assert views.error_code == "InclusiveBetween"
    assert views.message == "'Max Views' must be between 1 and 50. You entered 0."
    assert views.meta == {"PropertyName": "Max Views", "PropertyValue": "0", "From": "1", "To": "50"}
    assert (status.error_code, status.message) == ("Email", email.message)


def test_a_value_that_does_not_bind_is_named_as_sent(client):
    e = failure(lambda: client.get(CustomerLinkQueryRequest(), args={"take": "abc"}))

    assert e.status_code == 400
    status = e.response_status
    assert status.error_code == "SerializationException"
    assert status.message == "Unable to bind to request 'CustomerLinkQueryRequest'"
    assert [(x.error_code, x.field_name, x.message) for x in status.errors] == [
        ("SerializationException", "take", "'abc' is an Invalid value for 'take'")]


def test_a_wrong_verb_names_the_method_and_service(client):
    # No operation takes PUT here, so nothing in the request can say how it spells members;
    # `?jsconfig=eccn` (ServiceStack's own switch) asks for the camelCase this client reads.
    e = failure(lambda: client.send(
        CustomerLinkRequest(customer_link_u_i_d=new_resource_uid()), method="PUT",
        args={"jsconfig": "eccn"}))

    assert e.status_code == 405
    assert e.response_status.error_code == "NotImplementedException"
    assert e.response_status.message == (
        "Could not find method named Put(CustomerLinkRequest) or Any(CustomerLinkRequest) "
        "on Service CustomerLinkService")


def test_a_malformed_json_body_is_a_serialization_exception():
    r = requests.post(f"{BASE_URL}/api/CustomerLinkCreateRequest", data=b'{"resourceType":',
                      headers={"Authorization": f"Bearer {API_KEY}",
                               "Content-Type": "application/json"})

    assert r.status_code == 400
    status = r.json().get("responseStatus") or r.json()["ResponseStatus"]
    code = status.get("errorCode") or status.get("ErrorCode")
    message = status.get("message") or status.get("Message")
    assert code == "SerializationException"
    assert message.startswith(
        "Could not deserialize 'application/json' request using "
        "CRM.AgencyPlatform.API.Internal.CustomerLinkCreateRequest'\nError: ")


def test_xml_errors_are_rooted_at_the_operations_response_dto():
    body = (f'<CustomerLinkCreateRequest xmlns="{API_NS}">'
            '<ResourceType>Quote</ResourceType></CustomerLinkCreateRequest>')
    r = requests.post(f"{BASE_URL}/xml/reply/CustomerLinkCreateRequest", data=body.encode(),
                      headers={"Authorization": f"Bearer {API_KEY}",
                               "Content-Type": "application/xml"})

    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{API_NS}}}CustomerLinkCreateResponse"
    status = root.find(f"{{{API_NS}}}ResponseStatus")
    assert status is not None
    assert status.findtext(f"{{{SS_NS}}}ErrorCode") == "NotEmpty"
    fields = [e.findtext(f"{{{SS_NS}}}FieldName")
              for e in status.iter(f"{{{SS_NS}}}ResponseError")]
    assert "ResourceUid" in fields

    unknown = requests.get(f"{BASE_URL}/nowhere.xml", headers={"Authorization": f"Bearer {API_KEY}"})
    assert unknown.status_code == 404
    assert ET.fromstring(unknown.content).tag == f"{{{SS_NS}}}ErrorResponse"
