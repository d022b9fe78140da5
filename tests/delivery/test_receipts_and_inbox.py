"""Read receipts acknowledge transmissions; GPs see the fiches of their own patients only."""

from __future__ import annotations

from rcp_app.delivery.mdn import build_mdn
from rcp_app.delivery.receipts import import_folder
from tests.delivery.support import DCC, by_role, signed_fiche
from tests.delivery.test_worker import deliver
from tests.fiches.support import version_bytes
from tests.meetings_support import audits
from tests.support.factories import PASSWORD


def test_receipts_dropped_in_the_folder_acknowledge(app, make, smtp_server, tmp_path):
    signed_fiche(app, make)
    deliver(app)
    dcc = by_role(app)["dcc"]
    (tmp_path / "1-mdn.eml").write_bytes(build_mdn(dcc.message_id, DCC))
    (tmp_path / "2-unknown.eml").write_bytes(build_mdn("<inconnu@ailleurs.fr>", DCC))
    (tmp_path / "3-not-mdn.eml").write_bytes(b"Subject: bonjour\r\n\r\ntexte\r\n")
    with app.app_context():
        results = dict(import_folder(tmp_path))
    assert results["1-mdn.eml"].acknowledged
    assert not results["2-unknown.eml"].acknowledged
    assert not results["3-not-mdn.eml"].acknowledged
    assert by_role(app)["dcc"].status == "acknowledged"
    assert by_role(app)["gp"].status == "sent"
    assert sorted(p.name for p in (tmp_path / "traites").iterdir()) == ["1-mdn.eml"]
    assert len(list((tmp_path / "rejetes").iterdir())) == 2
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []
    assert len(audits(app, "delivery.acknowledged")) == 1


def test_receipt_posted_to_the_cli(app, make, smtp_server, tmp_path):
    signed_fiche(app, make)
    deliver(app)
    gp = by_role(app)["gp"]
    path = tmp_path / "mdn.eml"
    path.write_bytes(build_mdn(gp.message_id, gp.recipient_address))
    result = app.test_cli_runner().invoke(args=["rcp", "receipts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert by_role(app)["gp"].status == "acknowledged"
    path.write_bytes(b"pas un accuse")
    result = app.test_cli_runner().invoke(args=["rcp", "receipts", "import", str(path)])
    assert result.exit_code == 1 and "pas un accusé de lecture" in result.output


def _gp_client(app, make, professional_id):
    user = make.user(role="gp", professional_id=professional_id)
    client = app.test_client()
    client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    return client


def test_gp_inbox_lists_own_patients_and_downloads(app, make):
    world = signed_fiche(app, make)
    client = _gp_client(app, make, world.gp_id)
    page = client.get("/boite").get_data(as_text=True)
    assert "DUPONT Marie" in page and "Télécharger le PDF signé" in page
    from tests.fiches.support import fiche_of

    fiche = fiche_of(app, world.case_id)
    pdf = client.get(f"/boite/fiches/{fiche.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == version_bytes(app, world.case_id, 1)
    assert audits(app, "fiche.download") and audits(app, "delivery.inbox_view")
    # The clinical pages stay closed to GPs.
    assert client.get(f"/fiches/{fiche.id}").status_code == 403


def test_a_correspondent_in_copy_finds_the_fiche_too(app, make):
    world = signed_fiche(app, make)
    client = _gp_client(app, make, world.correspondent_id)
    from tests.fiches.support import fiche_of

    fiche = fiche_of(app, world.case_id)
    assert "DUPONT Marie" in client.get("/boite").get_data(as_text=True)
    assert client.get(f"/boite/fiches/{fiche.id}.pdf").status_code == 200


def test_gp_sees_nothing_of_other_patients(app, make):
    world = signed_fiche(app, make)
    other_gp = make.professional(last_name="Autre", specialty_code="G15_10/SM26")
    client = _gp_client(app, make, other_gp.id)
    from tests.fiches.support import fiche_of

    fiche = fiche_of(app, world.case_id)
    assert "DUPONT" not in client.get("/boite").get_data(as_text=True)
    assert client.get(f"/boite/fiches/{fiche.id}.pdf").status_code == 404


def test_fiche_and_case_pages_show_where_the_fiche_went(app, make, smtp_server, login, client):
    world = signed_fiche(app, make)
    deliver(app)
    from tests.fiches.support import fiche_of

    fiche = fiche_of(app, world.case_id)
    login("physician")
    page = client.get(f"/fiches/{fiche.id}").get_data(as_text=True)
    assert "DCC régional" in page and "Médecin traitant — Dr BERNARD Luc" in page
    assert page.count("Envoyé<br>") == 4
    case_page = client.get(f"/dossiers/{world.case_id}").get_data(as_text=True)
    assert f"/fiches/{fiche.id}" in case_page and "Fiche RCP signée (version 1)" in case_page
