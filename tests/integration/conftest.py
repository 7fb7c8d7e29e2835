"""Fixtures shared by the integration tests: the web app in-process and a hub stepped by hand."""

from __future__ import annotations

import pytest

from cop.app import create_app
from cop.hub.worker import Hub
from tests.integration.helpers import Recorder


@pytest.fixture
def app(settings, store):
    """The whole web app (pages, API, Socket.IO) on the test's Redis, for Flask's test client."""
    return create_app(settings, store)


@pytest.fixture
def hub(store):
    """A hub whose deltas are recorded instead of sent; tests drive it with `drain()`."""
    return Hub(store, Recorder(), consumer="c")
