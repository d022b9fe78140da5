"""OAuth 2.0 client credentials, bearer tokens, scopes, revocation, quotas, audit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rcp_app.api.models import ApiClient, ApiToken
from rcp_app.api.oauth import token_hash
from rcp_app.api.operations import revoke_client, rotate_secret
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.api.conftest import basic, request_token


def test_token_then_call(api, app):
    caller = api(scopes=("patients:read",))
    response = caller.get("/api/v1/patients")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["items"] == []
    with app.app_context():
        stored = db.session.scalar(select(ApiToken).where(ApiToken.client_id == caller.client_pk))
        # Only the hash is kept, and the client's secret is an Argon2 hash.
        assert stored.token_hash == token_hash(caller.token) != caller.token
        client = db.session.get(ApiClient, caller.client_pk)
        assert client.secret_hash.startswith("$argon2id$")
        assert caller.secret not in client.secret_hash
        assert stored.expires_at - stored.issued_at == timedelta(seconds=900)


def test_wrong_secret_and_unknown_client_are_refused(api, client):
    caller = api()
    assert request_token(client, caller.client_id, "wrong").status_code == 401
    assert request_token(client, "rcp-unknown", caller.secret).status_code == 401
    refused = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "password"},
        headers=basic(caller.client_id, caller.secret),
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unsupported_grant_type"


def test_a_token_carries_only_the_scopes_asked_and_held(api, client):
    caller = api(scopes=("patients:read", "cases:read"))
    response = request_token(client, caller.client_id, caller.secret, "patients:read fiches:read")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "patients:read"


def test_missing_scope_is_403_and_missing_token_401(api, client):
    caller = api(scopes=("cases:read",))
    response = caller.get("/api/v1/patients")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "portée" in response.get_json()["detail"]
    assert client.get("/api/v1/patients").status_code == 401
    bogus = client.get("/api/v1/patients", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    assert "WWW-Authenticate" in bogus.headers


def test_a_session_cookie_does_not_open_the_api(client, login):
    login("coordinator")
    assert client.get("/api/v1/patients").status_code == 401


def test_expired_token_is_refused(api, app):
    caller = api()
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.client_id == caller.client_pk))
        token.expires_at = token.issued_at - timedelta(seconds=1)
        db.session.commit()
    assert caller.get("/api/v1/patients").status_code == 401


def test_revocation_endpoint(api):
    caller = api()
    response = caller.http.post(
        "/api/v1/oauth/revoke",
        data={"token": caller.token},
        headers=basic(caller.client_id, caller.secret),
    )
    assert response.status_code == 200
    assert caller.get("/api/v1/patients").status_code == 401


def test_revoked_client_and_rotated_secret(api, app, client):
    caller = api()
    with app.app_context():
        registered = db.session.get(ApiClient, caller.client_pk)
        new_secret = rotate_secret(registered, registered.version)
        db.session.commit()
    # The old token and the old secret stop at once; the new secret works.
    assert caller.get("/api/v1/patients").status_code == 401
    assert request_token(client, caller.client_id, caller.secret).status_code == 401
    fresh = request_token(client, caller.client_id, new_secret)
    assert fresh.status_code == 200
    with app.app_context():
        registered = db.session.get(ApiClient, caller.client_pk)
        revoke_client(registered, registered.version)
        db.session.commit()
    headers = {"Authorization": f"Bearer {fresh.get_json()['access_token']}"}
    assert client.get("/api/v1/patients", headers=headers).status_code == 401
    assert request_token(client, caller.client_id, new_secret).status_code == 401


def test_quota_per_client(api):
    caller = api(rate=3)
    statuses = [caller.get("/api/v1/patients").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = caller.get("/api/v1/patients")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Quota dépassé" in refused.get_json()["detail"]
    # Another client of the same establishment has its own quota.
    other = api(rate=3)
    assert other.get("/api/v1/patients").status_code == 200


def test_every_call_is_audited_with_client_and_scope(api, app):
    caller = api(scopes=("patients:read",))
    caller.get("/api/v1/patients")
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id.desc())
        ).first()
        assert row.username.startswith("api:DPI de test (rcp-")
        assert row.details_dict()["scope"] == "patients:read"
        assert row.details_dict()["status"] == 200


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.get_json()["title"] == "Page introuvable"


def test_a_refused_call_is_audited_too(api, app):
    """``abort(problem(404))`` carries its status in its response, not in ``code``: the call's
    audit row must say 404 and be kept (the request commits below 500)."""
    caller = api(scopes=("patients:read",))
    assert caller.get("/api/v1/patients/999999").status_code == 404
    assert caller.get("/api/v1/patients", query_string={"cursor": "!"}).status_code == 400
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.seq)
        ).all()
        assert [r.details_dict()["status"] for r in rows[-2:]] == [404, 400]


def test_the_quota_holds_across_application_instances(api, make_test_app):
    """Each web process has its own application: the count lives in the database, so two
    instances serving the same client share one quota."""
    caller = api(rate=4)
    other = make_test_app().test_client()
    headers = caller.headers()
    statuses = [
        (caller.http if n % 2 == 0 else other).get("/api/v1/patients", headers=headers).status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_the_secret_is_checked_outside_any_transaction(api, client, monkeypatch):
    """Argon2 is slow on purpose: no transaction (no SQLite write lock) while it runs."""
    from rcp_app.auth import passwords

    caller = api()
    seen = []
    real = passwords.verify_password

    def watched(stored, given):
        seen.append(db.session().in_transaction())
        return real(stored, given)

    monkeypatch.setattr(passwords, "verify_password", watched)
    assert request_token(client, caller.client_id, caller.secret).status_code == 200
    assert seen == [False]
