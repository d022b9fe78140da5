"""A real SMTP server on loopback for the delivery tests, and the app pointed at it."""

from __future__ import annotations

import pytest

from tests.delivery.smtp_server import running_server


@pytest.fixture(scope="session")
def _smtp_server():
    with running_server() as server:
        yield server


@pytest.fixture
def smtp_server(app, _smtp_server):
    """The server, reset, with the app's RCP_SMTP_* settings pointing at it for this test."""
    if not _smtp_server.running:
        _smtp_server.start()
    _smtp_server.reset()
    saved = {key: app.config.get(key) for key in ("RCP_SMTP_HOST", "RCP_SMTP_PORT")}
    app.config.update(RCP_SMTP_HOST=_smtp_server.host, RCP_SMTP_PORT=_smtp_server.port)
    yield _smtp_server
    app.config.update(saved)
    if not _smtp_server.running:
        _smtp_server.start()
