"""What every Python client suite needs: where the server is, its key, a configured official
client, fresh resource ids and a valid Quote link request. One place, so a suite file holds
only its own tests. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (tests/clients/run.sh sets them).
"""

import os
import uuid

from servicestack import JsonServiceClient

from dtos import CustomerLinkCreateRequest

BASE_URL = os.environ["CUSTOMERLINK_URL"].rstrip("/")
API_KEY = os.environ["CUSTOMERLINK_KEY"]


def api_client(with_key=True, agent=None) -> JsonServiceClient:
    """A client of the server, with the API key as Bearer token unless `with_key` is false."""
    client = JsonServiceClient(BASE_URL)
    if with_key:
        client.set_bearer_token(API_KEY)
    if agent is not None:
        client.headers["User-Agent"] = agent
    return client


def new_resource_uid() -> str:
    """A new N-form Guid for a resource no other test uses."""
    return uuid.uuid4().hex


def new_email() -> str:
    """A recipient address no other test uses."""
    return f"ann.{uuid.uuid4().hex[:8]}@example.com"


def quote_request(resource_uid=None, email=None) -> CustomerLinkCreateRequest:
    """A request for an ad-hoc Quote link (fresh resource and address unless given)."""
    return CustomerLinkCreateRequest(
        resource_type="Quote",
        resource_uid=resource_uid or new_resource_uid(),
        recipient_email=email or new_email(),
    )
