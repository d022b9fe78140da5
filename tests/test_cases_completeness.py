"""Completeness: defaults per appareil, an RCP's own minimum data set, plain French labels;
the list shows a count badge with a constant number of SQL queries per page."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from rcp_app.cases import completeness
from rcp_app.cases.models import Biomarker, Case, RcpRequiredItem, Tumour
from rcp_app.extensions import db
from tests.support.case_data import (
    BREAST,
    DIGESTIVE,
    MALE_GENITAL,
    THORACIC,
    case_form,
    new_url,
    world,
)


def _missing(app, case_id: int) -> list[str]:
    with app.app_context():
        return completeness.missing_items(db.session.get(Case, case_id))


def _bare_case(make, appareil: str | None = BREAST, **fields):
    if appareil is None:
        rcp = make.rcp(weekday=None, nature="transversal", appareil_code=None, theme_code="ORG-130")
        fields.setdefault("nature", "transversal")
        fields.setdefault("appareil_code", None)
    else:
        rcp = make.rcp(weekday=None, appareil_code=appareil)
        fields.setdefault("appareil_code", appareil)
    return make.case(rcp_id=rcp.id, question="", synthesis="", **fields)


def test_an_empty_breast_case_lists_everything_in_french(app, make):
    case = _bare_case(make)
    assert _missing(app, case.id) == [
        "Motif de présentation",
        "Phase de la maladie (initiale ou rechute)",
        "Indice de performance OMS",
        "Score G8 (patient de 70 ans ou plus)",  # the factory's patient is born in 1956
        "Synthèse du dossier",
        "Question posée",
        "Médecin traitant (ou « inconnu »)",
        "Information du patient et non-opposition",
        "Au moins une tumeur décrite",
    ]


def _with_tumour(app, case_id: int, topography: str, markers: dict | None = None, **fields):
    with app.app_context():
        tumour = Tumour(case_id=case_id, rank=1, topography_code=topography, **fields)
        tumour.biomarkers = [Biomarker(code=k, value=v) for k, v in (markers or {}).items()]
        db.session.add(tumour)
        db.session.commit()


@pytest.mark.parametrize(
    ("appareil", "topography", "expected"),
    [
        (BREAST, "C50.4", ["Récepteurs aux œstrogènes (RE) du sein", "Statut HER2 du sein"]),
        (DIGESTIVE, "C18.7", ["Conclusion du compte rendu d'anatomopathologie"]),
        (THORACIC, "C34.1", ["Conclusion du compte rendu d'anatomopathologie"]),
        (MALE_GENITAL, "C61", ["PSA de la prostate", "Groupe ISUP de la prostate"]),
        ("25087005", "C71.9", []),  # nervous system: the organ defaults only
    ],
)
def test_defaults_per_appareil(app, make, appareil, topography, expected):
    case = _bare_case(make, appareil)
    _with_tumour(
        app,
        case.id,
        topography,
        {"breast.pr": "10"} if appareil == BREAST else {},
        diagnosis_date=date(2025, 1, 2),
        morphology_code="8140/3",
        tnm_edition="UICC8",
        clinical_t="cT2",
        clinical_n="cN0",
        clinical_m="cM0",
    )
    missing = _missing(app, case.id)
    tumour_items = [m for m in missing if m not in completeness.ITEMS["question"].label]
    for label in expected:
        assert label in missing
    assert "Au moins une tumeur décrite" not in missing
    assert "Classification TNM (avec son édition)" not in missing
    if appareil == BREAST:
        assert "Récepteurs à la progestérone (RP) du sein" not in missing
    assert tumour_items


def test_tnm_and_morphology_are_named_per_tumour(app, make):
    case = _bare_case(make)
    with app.app_context():
        db.session.add_all(
            [
                Tumour(case_id=case.id, rank=1, topography_code="C50.4"),
                Tumour(case_id=case.id, rank=2, topography_code="C50.1"),
            ]
        )
        db.session.commit()
    missing = _missing(app, case.id)
    assert "Morphologie (CIM-O-3) (tumeur 2)" in missing
    assert "Statut HER2 du sein (tumeur 1)" in missing
    assert "Classification TNM (avec son édition) (tumeur 2)" in missing


def test_transversal_rcp_needs_no_tumour(app, make):
    case = _bare_case(make, None)
    missing = _missing(app, case.id)
    assert "Au moins une tumeur décrite" not in missing and "Question posée" in missing


def test_g8_is_missing_only_from_70(app, make):
    old = _bare_case(make, patient_id=make.patient(birth_date=date(1940, 1, 1)).id)
    young = _bare_case(make, patient_id=make.patient(birth_date=date(1980, 1, 1)).id)
    assert "Score G8 (patient de 70 ans ou plus)" in _missing(app, old.id)
    assert "Score G8 (patient de 70 ans ou plus)" not in _missing(app, young.id)


def test_an_rcp_may_define_its_own_minimum_data_set(app, client, make, login):
    case = _bare_case(make)
    login("coordinator")
    page = client.get(f"/annuaire/rcp/{case.rcp_id}/donnees-minimales")
    assert page.status_code == 200 and "utilise les éléments par défaut" in page.get_data(
        as_text=True
    )
    response = client.post(
        f"/annuaire/rcp/{case.rcp_id}/donnees-minimales",
        data={"items": ["question", "comorbidities"]},
    )
    assert response.status_code == 302
    assert _missing(app, case.id) == ["Comorbidités", "Question posée"][::-1] or _missing(
        app, case.id
    ) == ["Question posée", "Comorbidités"]
    refused = client.post(
        f"/annuaire/rcp/{case.rcp_id}/donnees-minimales", data={"items": ["nimporte"]}
    )
    assert "Élément inconnu" in refused.get_data(as_text=True)
    client.post(f"/annuaire/rcp/{case.rcp_id}/donnees-minimales", data={"use_defaults": "y"})
    with app.app_context():
        assert db.session.query(RcpRequiredItem).count() == 0
    assert "Au moins une tumeur décrite" in _missing(app, case.id)


def test_case_page_and_list_show_what_is_missing(app, client, make, login):
    login("physician")
    ids = world(app, make)
    data = case_form(ids, **{"tumour_rows-0-bm_breast_her2": "", "performance_status": ""})
    client.post(new_url(ids), data=data)
    with app.app_context():
        case_id = db.session.query(Case.id).scalar()
    page = client.get(f"/dossiers/{case_id}").get_data(as_text=True)
    assert "2 éléments manquants" in page
    assert "<li>Indice de performance OMS</li>" in page and "<li>Statut HER2 du sein</li>" in page
    listing = client.get("/dossiers").get_data(as_text=True)
    assert "2 éléments manquants" in listing


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _fill(app, make, count: int):
    rcps = [make.rcp(weekday=None), make.rcp(weekday=None, appareil_code=DIGESTIVE)]
    with app.app_context():
        db.session.add(RcpRequiredItem(rcp_id=rcps[1].id, item_code="question"))
        db.session.commit()
    for i in range(count):
        case = make.case(rcp_id=rcps[i % 2].id)
        _with_tumour(app, case.id, "C50.4", {"breast.er": "80", "breast.her2": "0"})


def test_list_uses_a_constant_number_of_queries(app, client, make, login):
    login("coordinator")
    _fill(app, make, 3)
    with count_queries() as few:
        assert client.get("/dossiers").status_code == 200
    _fill(app, make, 22)
    with count_queries() as many:
        response = client.get("/dossiers")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('href="/dossiers/') >= 25
    assert len(many) == len(few), "\n".join(many)
