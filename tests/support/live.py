"""A real threaded server on a database of its own, for tests about concurrency.

The usual fixtures run each test inside one rolled-back transaction on one connection: two
requests can never race there. These tests need committed data, a connection pool and real
threads: a throw-away database (SQLite file, or PostgreSQL when RCP_TEST_DATABASE_URL is set)
and Werkzeug's threaded server on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.support import factories
from tests.support.databases import temporary_database


@dataclass
class Live:
    app: Flask
    port: int
    make: factories.Factories

    def request(self, method, path, body=b"", headers=None, timeout=120):
        """(status, headers, body); status None if the server closed the connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        except (ConnectionError, http.client.HTTPException):
            return None, [], b""
        finally:
            connection.close()

    def post_form(self, path, fields: dict, cookie: str | None = None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie:
            headers["Cookie"] = cookie
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(), headers)

    def login(self, username: str) -> str:
        """Log in; the session cookie (``name=value``)."""
        status, headers, body = self.post_form(
            "/connexion", {"username": username, "password": factories.PASSWORD}
        )
        assert status == 302, (status, body[:300])
        cookie = next(v for k, v in headers if k.lower() == "set-cookie")
        return cookie.split(";", 1)[0]


@contextmanager
def live_server(tmp_path_factory, **overrides):
    server_url = os.environ.get("RCP_TEST_DATABASE_URL")
    with temporary_database(server_url, tmp_path_factory) as url:
        app = make_app(url, TESTING=False, SERVER_NAME=None, **overrides)
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
            db.session.remove()
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield Live(app, httpd.server_port, factories.Factories(app))
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            httpd.server_close()
            with app.app_context():
                db.engine.dispose()
