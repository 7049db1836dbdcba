"""Fixtures the Python client suites share (pytest finds this file by name)."""

import pytest
from servicestack import JsonServiceClient

from support import api_client


@pytest.fixture
def client() -> JsonServiceClient:
    """A client with the API key, fresh for each test."""
    return api_client()
