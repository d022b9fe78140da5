"""Administration of user accounts: pages, operations, audit rows, CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from rcp_app.admin import operations as ops
from rcp_app.auth.models import User
from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import DomainError
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from tests.support.factories import PASSWORD
from tests.support.html_forms import form_values, other_client

NEW_PASSWORD = "Nouveau-mot-de-passe-2026"


def _user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return rows


def _new_user_form(**fields) -> dict:
    data = {
        "username": "c.martin",
        "display_name": "Claire MARTIN",
        "email": "claire.martin@chu.test",
        "role": "coordinator",
        "professional_id": "0",
        "active": "y",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(fields)
    return data


def _edit_form(user: User, **fields) -> dict:
    data = {
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "professional_id": str(user.professional_id or 0),
        "version": str(user.version),
    }
    if user.active:
        data["active"] = "y"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- list ----------------------------------------------------------------------------------


def test_users_page_lists_accounts_with_badges(client, login, make):
    login("admin")
    make.user(role="coordinator", username="verrou", locked_until=utcnow() + timedelta(minutes=9))
    make.user(
        role="coordinator",
        username="deuxfa",
        totp_secret="JBSWY3DPEHPK3PXP",
        totp_enabled_at=utcnow(),
    )
    make.user(role="coordinator", username="parti", active=False)
    html = client.get("/admin/utilisateurs").get_data(as_text=True)
    for text in (
        "verrou",
        "deuxfa",
        "parti",
        "Verrouillé",
        "Double authentification",
        "Désactivé",
        "Nouvel utilisateur",
    ):
        assert text in html


def test_users_page_filters_by_role_and_search(client, login, make):
    login("admin")
    make.user(role="gp", username="generaliste", display_name="Dr Émile Généraliste")
    make.user(role="coordinator", username="secretariat")
    html = client.get("/admin/utilisateurs?role=gp").get_data(as_text=True)
    assert "generaliste" in html and "secretariat" not in html
    html = client.get("/admin/utilisateurs?q=SECRET").get_data(as_text=True)
    assert "secretariat" in html and "generaliste" not in html
    # Bad filter values never break the page.
    for query in ("?role=nope", "?page=abc", "?page=-3", "?q=%25_%5C", "?q=" + "x" * 500):
        assert client.get("/admin/utilisateurs" + query).status_code == 200, query


@pytest.mark.parametrize("role", ["coordinator", "physician", "gp"])
def test_admin_pages_refused_to_other_roles(client, login, make, role):
    target = make.user(role="coordinator")
    login(role)
    for url in (
        "/admin/utilisateurs",
        "/admin/utilisateurs/nouveau",
        f"/admin/utilisateurs/{target.id}/modifier",
        f"/admin/utilisateurs/{target.id}/mot-de-passe",
        "/admin/audit",
        "/admin/audit/verification",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        f"/admin/utilisateurs/{target.id}/deverrouiller",
        f"/admin/utilisateurs/{target.id}/reinitialiser-double-authentification",
    ):
        assert client.post(url).status_code == 403, url


def test_admin_pages_redirect_anonymous_to_login(client, make):
    target = make.user(role="coordinator")
    response = client.get(f"/admin/utilisateurs/{target.id}/modifier")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]
    assert client.post(f"/admin/utilisateurs/{target.id}/deverrouiller").status_code == 302


def test_unknown_user_is_404(client, login):
    login("admin")
    assert client.get("/admin/utilisateurs/999999/modifier").status_code == 404
    assert client.post("/admin/utilisateurs/999999/deverrouiller").status_code == 404


# --- create --------------------------------------------------------------------------------


def test_create_user(app, client, login):
    admin = login("admin")
    assert client.get("/admin/utilisateurs/nouveau").status_code == 200
    response = client.post("/admin/utilisateurs/nouveau", data=_new_user_form(username="C.Martin"))
    assert response.status_code == 302
    user = _user(app, "c.martin")
    assert user is not None and user.role == "coordinator" and user.active
    assert user.password_hash.startswith("$argon2id$")
    [row] = _audit(app, "user.create")
    assert row.user_id == admin.id and row.object_id == str(user.id)
    details = row.details_dict()
    assert details["username"] == "c.martin" and details["role"] == "coordinator"
    assert "password" not in row.details and "argon2" not in row.details
    # The new account can log in.
    client.post("/deconnexion")
    response = client.post("/connexion", data={"username": "c.martin", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_create_physician_requires_and_links_professional(app, client, login, make):
    login("admin")
    professional = make.professional()
    response = client.post(
        "/admin/utilisateurs/nouveau", data=_new_user_form(role="physician", username="dr.lefevre")
    )
    assert response.status_code == 200
    assert "doit être associé à un professionnel de santé" in response.get_data(as_text=True)
    assert _user(app, "dr.lefevre") is None
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data=_new_user_form(
            role="physician", username="dr.lefevre", professional_id=str(professional.id)
        ),
    )
    assert response.status_code == 302
    assert _user(app, "dr.lefevre").professional_id == professional.id


def test_professional_links_to_one_account_only(app, client, login, make):
    login("admin")
    professional = make.professional()
    make.user(role="physician", username="premier", professional_id=professional.id)
    # The form does not offer a professional who already has an account…
    page = client.get("/admin/utilisateurs/nouveau").get_data(as_text=True)
    assert f'value="{professional.id}"' not in page
    # …and the operation refuses it anyway.
    with app.app_context(), pytest.raises(DomainError) as error:
        ops.create_user(
            "second",
            "second@rcp.test",
            "Second",
            "physician",
            professional.id,
            True,
            NEW_PASSWORD,
            NEW_PASSWORD,
        )
    assert error.value.field == "professional_id"
    assert "déjà associé au compte « premier »" in error.value.message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "Taken"}, "L&#39;identifiant « taken » est déjà pris."),
        ({"email": "Taken@RCP.test"}, "Cette adresse électronique est déjà utilisée"),
        ({"password": "court", "confirm": "court"}, "au moins 12 caractères"),
        (
            {"password": "toutenminusculesici", "confirm": "toutenminusculesici"},
            "trois types de caractères",
        ),
        ({"confirm": "Autre-mot-de-passe-99"}, "Les deux mots de passe saisis sont différents"),
        ({"role": "superuser"}, "N&#39;est pas un choix valide."),
        ({"username": "Élodie!"}, "Lettres minuscules sans accent"),
        ({"email": "pas-une-adresse"}, "Adresse électronique invalide."),
        ({"display_name": ""}, "Ce champ est requis."),
    ],
)
def test_create_user_refusals(app, client, login, make, fields, message):
    login("admin")
    make.user(role="coordinator", username="taken", email="taken@rcp.test")
    with app.app_context():
        before = db.session.scalar(select(db.func.count(User.id)))
    response = client.post(
        "/admin/utilisateurs/nouveau", data=_new_user_form(**{"username": "nouveau", **fields})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html, html[html.find("invalid-feedback") - 300 :][:900]
    assert "Rien n'a été enregistré" in html
    # What was typed is kept (passwords are never sent back).
    assert 'value="Claire MARTIN"' in html or fields.get("display_name") == ""
    assert NEW_PASSWORD not in html
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == before


def test_create_user_operation_refuses_bad_role(app):
    with app.app_context(), pytest.raises(DomainError) as error:
        ops.create_user(
            "quelquun", "q@rcp.test", "Q", "superuser", None, True, NEW_PASSWORD, NEW_PASSWORD
        )
    assert error.value.field == "role" and "Rôle inconnu" in error.value.message


# --- edit ----------------------------------------------------------------------------------


def test_edit_user_changes_role_and_audits_changed_fields(app, client, login, make):
    login("admin")
    user = make.user(role="coordinator", display_name="Ancien Nom")
    page = client.get(f"/admin/utilisateurs/{user.id}/modifier").get_data(as_text=True)
    assert 'name="version"' in page and "Ancien Nom" in page
    response = client.post(
        f"/admin/utilisateurs/{user.id}/modifier",
        data=_edit_form(user, role="admin", display_name="Nouveau Nom"),
    )
    assert response.status_code == 302
    saved = _user(app, user.username)
    assert saved.role == "admin" and saved.display_name == "Nouveau Nom"
    assert saved.version == user.version + 1
    [row] = _audit(app, "user.update")
    changes = row.details_dict()["changes"]
    assert changes == {
        "display_name": ["Ancien Nom", "Nouveau Nom"],
        "role": ["coordinator", "admin"],
    }


def test_edit_conflict_keeps_typed_values(app, client, login, make):
    login("admin")
    user = make.user(role="coordinator", display_name="Claire MARTIN")
    url = f"/admin/utilisateurs/{user.id}/modifier"
    mine = form_values(client.get(url).get_data(as_text=True))
    other = other_client(app, make, "admin")  # another administrator saves meanwhile
    theirs = form_values(other.get(url).get_data(as_text=True))
    theirs.update(role="admin", email="c.martin@chu.test")
    assert other.post(url, data=theirs).status_code == 302

    mine.update(display_name="Dr Claire MARTIN")
    response = client.post(url, data=mine)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert (
        'role="alert">Ce compte a été modifié par un autre utilisateur pendant que vous le '
        "modifiiez. Vos saisies sont conservées ci-dessous"
    ) in page
    assert 'value="Dr Claire MARTIN"' in page and f'value="{user.email}"' in page
    for stored in ("Claire MARTIN", "Administrateur", "c.martin@chu.test"):
        assert f"Valeur enregistrée entre-temps : {stored}" in page, stored
    assert "Valeur enregistrée entre-temps : — Aucun —" not in page  # unchanged: no note
    saved = _user(app, user.username)
    assert (saved.display_name, saved.role, saved.version) == ("Claire MARTIN", "admin", 2)
    assert len(_audit(app, "user.update")) == 1

    again = form_values(response.get_data(as_text=True))
    assert again["version"] == "2" and again["role"] == "coordinator"
    assert client.post(url, data=again).status_code == 302
    saved = _user(app, user.username)
    assert (saved.display_name, saved.role, saved.email, saved.version) == (
        "Dr Claire MARTIN",
        "coordinator",
        user.email,
        3,
    )
    updates = _audit(app, "user.update")
    assert len(updates) == 2
    assert set(updates[-1].details_dict()["changes"]) == {"display_name", "role", "email"}


@pytest.mark.parametrize("version", ["abc", None])
def test_edit_with_bad_or_missing_version_is_shown_again(app, client, login, make, version):
    login("admin")
    user = make.user(role="coordinator")
    response = client.post(
        f"/admin/utilisateurs/{user.id}/modifier",
        data=_edit_form(user, display_name="Nom saisi", version=version),
    )
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and 'value="Nom saisi"' in page
    assert f"Valeur enregistrée entre-temps : {user.display_name}" in page
    assert form_values(response.get_data(as_text=True))["version"] == str(user.version)
    assert _user(app, user.username).display_name == user.display_name
    assert _audit(app, "user.update") == []


def test_edit_refuses_physician_without_professional(app, client, login, make):
    login("admin")
    user = make.user(role="coordinator")
    response = client.post(
        f"/admin/utilisateurs/{user.id}/modifier", data=_edit_form(user, role="physician")
    )
    assert response.status_code == 200
    assert "doit être associé à un professionnel" in response.get_data(as_text=True)
    assert _user(app, user.username).role == "coordinator"


def test_admin_cannot_deactivate_or_demote_themselves(app, client, login):
    admin = _user(app, login("admin").username)  # as saved by the login
    response = client.post(
        f"/admin/utilisateurs/{admin.id}/modifier", data=_edit_form(admin, active=None)
    )
    assert response.status_code == 200
    assert "votre propre compte" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/utilisateurs/{admin.id}/modifier", data=_edit_form(admin, role="coordinator")
    )
    assert response.status_code == 200
    assert "vos propres droits d&#39;administrateur" in response.get_data(as_text=True)
    saved = _user(app, admin.username)
    assert saved.role == "admin" and saved.active


def test_last_active_admin_is_kept(app, make):
    only = make.user(role="admin")
    other = make.user(role="admin", active=False)
    with app.app_context():
        # Whatever else the database holds, leave a single active admin: `only`.
        for user in db.session.scalars(
            select(User).where(User.role == "admin", User.id != only.id)
        ):
            user.active = False
        db.session.flush()
        target = db.session.get(User, only.id)
        by = db.session.get(User, other.id)
        with pytest.raises(DomainError, match="au moins un administrateur actif"):
            ops.update_user(target, {"active": False}, target.version, by=by)
        db.session.rollback()


def test_deactivation_ends_the_users_sessions(app, client, login, make):
    admin_client = app.test_client()
    user = _user(app, login("coordinator").username)
    assert client.get("/").status_code == 200
    admin = make.user(role="admin")
    admin_client.post("/connexion", data={"username": admin.username, "password": PASSWORD})
    response = admin_client.post(
        f"/admin/utilisateurs/{user.id}/modifier", data=_edit_form(user, active=None)
    )
    assert response.status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    [row] = _audit(app, "user.update")
    assert row.details_dict()["changes"] == {"active": [True, False]}
    # A deactivated account cannot log in, even with the right password.
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert "Ce compte est désactivé" in response.get_data(as_text=True)


# --- password, unlock, 2FA -----------------------------------------------------------------


def test_reset_password_ends_the_users_sessions(app, client, login, make):
    user = login("physician")
    assert client.get("/").status_code == 200
    admin = make.user(role="admin")
    admin_client = app.test_client()
    admin_client.post("/connexion", data={"username": admin.username, "password": PASSWORD})
    url = f"/admin/utilisateurs/{user.id}/mot-de-passe"
    assert admin_client.get(url).status_code == 200
    weak = admin_client.post(url, data={"new_password": "faible", "confirm": "faible"})
    assert weak.status_code == 200 and "au moins 12 caractères" in weak.get_data(as_text=True)
    response = admin_client.post(url, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # the user's session ended
    [row] = _audit(app, "user.password_reset")
    assert "argon2" not in row.details and NEW_PASSWORD not in row.details
    assert (
        client.post(
            "/connexion", data={"username": user.username, "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_admin_resetting_own_password_stays_logged_in(app, client, login):
    admin = login("admin")
    other = app.test_client()
    other.post("/connexion", data={"username": admin.username, "password": PASSWORD})
    response = client.post(
        f"/admin/utilisateurs/{admin.id}/mot-de-passe",
        data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/admin/utilisateurs").status_code == 200
    assert other.get("/").status_code == 302


def test_unlock_user(app, client, login, make):
    login("admin")
    user = make.user(
        role="coordinator", failed_logins=3, locked_until=utcnow() + timedelta(minutes=10)
    )
    page = client.get(f"/admin/utilisateurs/{user.id}/modifier").get_data(as_text=True)
    assert "Déverrouiller" in page and "Verrouillé jusqu'au" in page
    response = client.post(f"/admin/utilisateurs/{user.id}/deverrouiller")
    assert response.status_code == 302
    saved = _user(app, user.username)
    assert saved.locked_until is None and saved.failed_logins == 0
    [row] = _audit(app, "user.unlock")
    assert row.details_dict() == {"username": user.username, "was_locked": True}
    assert client.get(f"/admin/utilisateurs/{user.id}/deverrouiller").status_code == 405


def test_reset_totp(app, client, login, make):
    admin = login("admin")
    secret = "JBSWY3DPEHPK3PXP"
    user = make.user(
        role="physician", totp_secret=secret, totp_enabled_at=utcnow(), totp_last_step=123
    )
    url = f"/admin/utilisateurs/{user.id}/reinitialiser-double-authentification"
    assert client.post(url).status_code == 302
    saved = _user(app, user.username)
    assert saved.totp_secret is None and saved.totp_enabled_at is None
    assert saved.totp_last_step is None
    [row] = _audit(app, "user.totp_reset")
    assert secret not in row.details and row.user_id == admin.id
    # Nothing left to reset: a French message, no change.
    response = client.post(url, follow_redirects=True)
    assert "n&#39;est pas active sur ce compte" in response.get_data(as_text=True)


def test_audit_details_never_hold_secrets(app, client, login, make):
    login("admin")
    client.post("/admin/utilisateurs/nouveau", data=_new_user_form())
    user = _user(app, "c.martin")
    client.post(
        f"/admin/utilisateurs/{user.id}/modifier", data=_edit_form(user, email="autre@chu.test")
    )
    client.post(
        f"/admin/utilisateurs/{user.id}/mot-de-passe",
        data={"new_password": NEW_PASSWORD + "x", "confirm": NEW_PASSWORD + "x"},
    )
    with app.app_context():
        details = [json.loads(d) for d in db.session.scalars(select(AuditEntry.details))]
    text = json.dumps(details)
    assert "argon2" not in text and NEW_PASSWORD not in text and "totp_secret" not in text


# --- CLI -----------------------------------------------------------------------------------


def test_cli_create_admin(app):
    runner = app.test_cli_runner()
    args = [
        "rcp",
        "create-admin",
        "chef",
        "--email",
        "chef@rcp.test",
        "--name",
        "Le Chef",
        "--password",
        NEW_PASSWORD,
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Administrateur « chef » créé." in result.output
    user = _user(app, "chef")
    assert user.role == "admin" and user.active
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "L'identifiant « chef » est déjà pris." in result.output
    weak = runner.invoke(
        args=[
            "rcp",
            "create-admin",
            "autre",
            "--email",
            "a@rcp.test",
            "--name",
            "Autre",
            "--password",
            "faible",
        ]
    )
    assert weak.exit_code == 1 and "au moins 12 caractères" in weak.output


# --- coordinators' scopes ------------------------------------------------------------------


def _scopes(app, user) -> tuple[list[int], list[int]]:
    with app.app_context():
        rcps, establishments = ops.coordinator_scopes(db.session.get(User, user.id))
    return list(rcps), list(establishments)


def test_coordinator_scopes_are_set_from_the_form_and_audited(app, client, login, make):
    login("admin")
    first, second = make.rcp(name="RCP Sénologie"), make.rcp(name="RCP Thorax")
    establishment = make.establishment(name="CHU de Rivière-Claire")
    user = make.user(role="coordinator", username="secretariat")
    url = f"/admin/utilisateurs/{user.id}/modifier"
    page = unescape(client.get(url).get_data(as_text=True))
    assert "RCP coordonnées" in page and "Établissements coordonnés" in page
    assert "il ne voit aucun dossier ni aucun ordre du jour" in page
    listing = client.get("/admin/utilisateurs?q=secretariat").get_data(as_text=True)
    assert "Aucun périmètre : ne voit aucun dossier" in listing

    data = _edit_form(user)
    data.update(rcp_ids=[str(first.id), str(second.id)], establishment_ids=[str(establishment.id)])
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert _scopes(app, user) == (sorted([first.id, second.id]), [establishment.id])
    [row] = _audit(app, "user.scopes")
    assert row.object_id == str(user.id)
    assert row.details_dict()["changes"] == {
        "rcp_ids": [[], sorted([first.id, second.id])],
        "establishment_ids": [[], [establishment.id]],
    }
    assert _audit(app, "user.update") == []  # no account field changed
    # A scope-only change still moves the version: a stale form cannot overwrite it.
    assert _user(app, "secretariat").version == user.version + 1

    page = client.get(url).get_data(as_text=True)
    assert "ni aucun ordre du jour" not in page
    assert f'<option selected value="{first.id}">' in page or (
        f'value="{first.id}" selected' in page
    )
    listing = unescape(client.get("/admin/utilisateurs?q=secretariat").get_data(as_text=True))
    assert "toutes les RCP de : CHU de Rivière-Claire ; RCP Sénologie ; RCP Thorax" in listing

    # Removing one RCP replaces the rows; the audit row says old and new.
    saved = _user(app, "secretariat")
    data = _edit_form(saved)
    data.update(rcp_ids=[str(second.id)], establishment_ids=[str(establishment.id)])
    assert client.post(url, data=data).status_code == 302
    assert _scopes(app, user) == ([second.id], [establishment.id])
    assert _audit(app, "user.scopes")[-1].details_dict()["changes"] == {
        "rcp_ids": [sorted([first.id, second.id]), [second.id]]
    }


def test_scopes_refused_for_other_roles_and_removed_with_the_role(app, client, login, make):
    login("admin")
    rcp = make.rcp()
    professional = make.professional()
    physician = make.user(role="gp", professional_id=professional.id)
    url = f"/admin/utilisateurs/{physician.id}/modifier"
    response = client.post(url, data={**_edit_form(physician), "rcp_ids": [str(rcp.id)]})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Seul un compte « Coordination (3C / secrétariat RCP) » coordonne des RCP" in html
    assert _scopes(app, physician) == ([], [])
    assert _audit(app, "user.scopes") == []

    coordinator = make.user(role="coordinator")
    with app.app_context():
        ops.set_coordinator_scopes(db.session.get(User, coordinator.id), [rcp.id], [])
        db.session.commit()
    saved = _user(app, coordinator.username)
    # The form still shows (and posts) the former scope with the new role: it is dropped.
    data = {**_edit_form(saved, role="admin"), "rcp_ids": [str(rcp.id)]}
    response = client.post(f"/admin/utilisateurs/{coordinator.id}/modifier", data=data)
    assert response.status_code == 302
    assert _user(app, coordinator.username).role == "admin"
    assert _scopes(app, coordinator) == ([], [])
    assert _audit(app, "user.scopes")[-1].details_dict()["changes"] == {"rcp_ids": [[rcp.id], []]}


def test_set_coordinator_scopes_operation_checks_ids(app, make):
    rcp = make.rcp()
    closed = make.rcp(name="RCP fermée", active=False)
    establishment = make.establishment()
    coordinator = make.user(role="coordinator")
    with app.app_context():
        user = db.session.get(User, coordinator.id)
        with pytest.raises(DomainError) as error:
            ops.set_coordinator_scopes(user, [rcp.id, 999_999], [])
        assert error.value.field == "rcp_ids"
        assert error.value.message == "RCP inconnue (n° 999999) : rechargez la page."
        with pytest.raises(DomainError) as error:
            ops.set_coordinator_scopes(user, [], [999_998])
        assert error.value.field == "establishment_ids" and "inconnu" in error.value.message
        with pytest.raises(DomainError) as error:
            ops.set_coordinator_scopes(user, [closed.id], [])
        assert "RCP inactive : RCP fermée" in error.value.message
        assert ops.coordinator_scopes(user) == ((), ())
        assert ops.set_coordinator_scopes(user, [rcp.id, rcp.id], [establishment.id]) == {
            "rcp_ids": [[], [rcp.id]],
            "establishment_ids": [[], [establishment.id]],
        }
        # Unchanged: nothing written, nothing audited.
        assert ops.set_coordinator_scopes(user, [rcp.id], [establishment.id]) == {}
        db.session.commit()
    assert len(_audit(app, "user.scopes")) == 1


def test_create_coordinator_with_scopes(app, client, login, make):
    login("admin")
    rcp = make.rcp()
    response = client.post(
        "/admin/utilisateurs/nouveau", data={**_new_user_form(), "rcp_ids": [str(rcp.id)]}
    )
    assert response.status_code == 302
    assert _scopes(app, _user(app, "c.martin")) == ([rcp.id], [])
    [row] = _audit(app, "user.scopes")
    assert row.details_dict()["changes"] == {"rcp_ids": [[], [rcp.id]]}
    # A value that is not among the choices is refused by the form, nothing created.
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={**_new_user_form(username="autre", email="a@chu.test"), "rcp_ids": ["999999"]},
    )
    assert response.status_code == 200 and _user(app, "autre") is None


def test_cli_coordinator_scope(app, make):
    rcp = make.rcp(national_id="RCP-350004125-SEIN")
    establishment = make.establishment(finess="350009034")
    coordinator = make.user(role="coordinator", username="secretariat")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "rcp",
            "coordinator-scope",
            "secretariat",
            "--rcp",
            "RCP-350004125-SEIN",
            "--establishment",
            "350009034",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Périmètre de « secretariat » enregistré" in result.output
    assert _scopes(app, coordinator) == ([rcp.id], [establishment.id])
    result = runner.invoke(args=["rcp", "coordinator-scope", "secretariat", "--rcp", "RCP-X"])
    assert (
        result.exit_code == 1 and "RCP (identifiant national) introuvable : RCP-X" in result.output
    )
    result = runner.invoke(args=["rcp", "coordinator-scope", "personne"])
    assert result.exit_code == 1 and "Aucun compte « personne »" in result.output
    result = runner.invoke(args=["rcp", "coordinator-scope", "secretariat"])
    assert result.exit_code == 0 and "ne voit plus aucun dossier" in result.output
    assert _scopes(app, coordinator) == ([], [])
