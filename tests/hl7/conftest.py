"""A database of its own with committed data, and the HL7 listener on an ephemeral port.

The usual fixtures hold each test in one rolled-back transaction on one connection; the
listener's worker threads need a real pool and commits, as in production (like
tests/support/live.py). Each test uses new IPPs and matricules (tests/hl7/support.py), so the
tests share one database and one listener.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from flask import Flask
from flask_migrate import upgrade

from rcp_app.extensions import db
from rcp_app.hl7.listener import Listener, running
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.support import factories
from tests.support.databases import temporary_database


@dataclass
class Feed:
    app: Flask
    make: factories.Factories
    listener: Listener

    @property
    def port(self) -> int:
        return self.listener.port


@pytest.fixture(scope="package")
def feed(tmp_path_factory):
    server_url = os.environ.get("RCP_TEST_DATABASE_URL")
    with temporary_database(server_url, tmp_path_factory) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
            db.session.remove()
        try:
            with running(app, workers=4) as listener:
                yield Feed(app, factories.Factories(app), listener)
        finally:
            with app.app_context():
                db.engine.dispose()
