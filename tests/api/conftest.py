"""API fixtures: ``api(scopes=…, establishment=…)`` registers a client, gets a token over
HTTP (the real token endpoint) and returns a small caller that sends the bearer token."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest

from rcp_app.api.models import SCOPES
from rcp_app.api.operations import register_client
from rcp_app.directory.models import Establishment
from rcp_app.extensions import db

ALL_SCOPES = tuple(SCOPES)


@dataclass
class ApiCaller:
    http: object  # the Flask test client
    client_id: str
    secret: str
    token: str
    establishment_id: int
    client_pk: int

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path, **kw):
        return self.http.post(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def put(self, path, **kw):
        return self.http.put(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def delete(self, path, **kw):
        return self.http.delete(path, headers=self.headers(kw.pop("headers", None)), **kw)


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def request_token(http, client_id: str, secret: str, scope: str | None = None):
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return http.post("/api/v1/oauth/token", data=data, headers=basic(client_id, secret))


@pytest.fixture
def api(app, make):
    """``api(scopes=("patients:read",), establishment=est, rate=600)`` → ApiCaller."""

    def _api(scopes=ALL_SCOPES, establishment: Establishment | None = None, rate: int = 600):
        establishment = establishment or make.establishment()
        with app.app_context():
            est = db.session.get(Establishment, establishment.id)
            credentials = register_client(
                "DPI de test", est, list(scopes), contact="dsi@hopital.test", rate=rate
            )
            db.session.commit()
            client_id, pk = credentials.client.client_id, credentials.client.id
        http = app.test_client()
        response = request_token(http, client_id, credentials.secret)
        assert response.status_code == 200, response.get_data(as_text=True)
        return ApiCaller(
            http,
            client_id,
            credentials.secret,
            response.get_json()["access_token"],
            establishment.id,
            pk,
        )

    return _api
