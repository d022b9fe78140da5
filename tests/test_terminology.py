"""Value sets: built-in set, SVS import (official and synthetic files), type-ahead, admin page."""

from __future__ import annotations

import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from sqlalchemy import func, select

from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.terminology import builtin as vs
from rcp_app.terminology.builtin import BUILTIN, load_builtin
from rcp_app.terminology.importer import ImportRejected, read_value_sets
from rcp_app.terminology.models import (
    Concept,
    ValueSet,
    active_concepts,
    concept_choices,
    concept_label,
    find_concept,
)
from rcp_app.terminology.operations import import_value_sets
from rcp_app.terminology.svs import SvsError, parse_file

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = ROOT.parent / "shared" / "ans-cisis" / "jeuxDeValeurs"
needs_official = pytest.mark.skipif(
    not (OFFICIAL / "JDV_Tumeur_CISIS.xml").is_file(),
    reason="fichiers officiels ../shared/ans-cisis/jeuxDeValeurs absents",
)
SEARCH = "/terminologie/recherche"


# --- helpers -----------------------------------------------------------------------------


def concept_xml(code=None, system="1.2.3.4", label=None, date_fin="", **extra) -> dict:
    attrs = {"code": code, "codeSystem": system, "displayName": label, "dateFin": date_fin}
    attrs.update(extra)
    return {k: v for k, v in attrs.items() if v is not None}


def write_svs(
    folder: Path,
    name: str,
    concepts: list[dict],
    *,
    file_name: str | None = None,
    oid: str = "1.2.250.1.999.1",
    value_set_attrs: dict | None = None,
) -> Path:
    """An IHE SVS file like the CI-SIS ones; each concept on its own line (line 7 onwards)."""
    vs_attrs = {"displayName": name, "id": oid, "version": "test"}
    vs_attrs.update(value_set_attrs or {})
    vs_text = " ".join(f"{k}={quoteattr(v)}" for k, v in vs_attrs.items() if v is not None)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">',
        f"  <ValueSet {vs_text}",
        '            revisionDate="2024-07-19T00:00:00+01:00">',
        "    <ConceptList>",
        "      <!-- concepts -->",
    ]
    for attrs in concepts:
        lines.append(
            "      <Concept " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"
        )
    lines += ["    </ConceptList>", "  </ValueSet>", "</RetrieveValueSetResponse>"]
    path = folder / (file_name or f"{name}.xml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(app, path):
    return app.test_cli_runner().invoke(args=["rcp", "terminology", "import", str(path)])


def snapshot(app) -> tuple:
    """Everything an import may touch: value sets, concepts, audit rows."""
    with app.app_context():
        sets = db.session.execute(
            select(ValueSet.name, ValueSet.oid, ValueSet.version, ValueSet.source).order_by(
                ValueSet.name
            )
        ).all()
        concepts = db.session.execute(
            select(Concept.value_set, Concept.code, Concept.label, Concept.retired_at).order_by(
                Concept.value_set, Concept.code
            )
        ).all()
        audit_rows = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return sets, concepts, audit_rows


def concepts_of(app, name: str) -> dict[str, Concept]:
    with app.app_context():
        rows = db.session.scalars(select(Concept).where(Concept.value_set == name)).all()
        for row in rows:
            db.session.expunge(row)
    return {row.code: row for row in rows}


# --- built-in value sets -------------------------------------------------------------------


def test_builtin_value_sets_are_loaded_and_loading_again_adds_nothing(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Concept))
        assert load_builtin() == 0
        assert load_builtin() == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Concept)) == before
        names = set(db.session.scalars(select(ValueSet.name)))
        for name in (
            vs.APPAREIL,
            vs.ORGAN,
            vs.TRANSVERSAL_THEME,
            vs.SPECIALTY,
            vs.TREATMENT_TYPE,
            vs.PERFORMANCE_STATUS,
            vs.PHASE,
            vs.CASE_STATUS,
            vs.QUORUM_STATUS,
            vs.LATERALITY,
            vs.TOPOGRAPHY,
            vs.MORPHOLOGY,
            vs.NATURE,
            vs.DOC_STATUS,
        ):
            assert name in names
            assert active_concepts(name), name
        assert [c for c, _ in concept_choices(vs.PERFORMANCE_STATUS)] == list(
            vs.PERFORMANCE_STATUS_CODES.values()
        )
        assert concept_label(vs.CASE_STATUS, vs.CASE_REGISTERED) == "Cas enregistré"
        assert concept_label(vs.CASE_STATUS, vs.CASE_DISCUSSED) == "Cas discuté"
        assert concept_label(vs.TOPOGRAPHY, "C50.2") == (
            "Tumeur maligne du quadrant supéro-interne du sein"
        )
        assert find_concept(vs.MORPHOLOGY, "8500/3").code_system == "2.16.840.1.113883.6.43.1"


def test_builtin_load_restores_missing_rows_and_keeps_existing_ones(app):
    with app.app_context():
        c50 = find_concept(vs.TOPOGRAPHY, "C50.2")
        c50.label = "Libellé modifié par un import"
        db.session.delete(find_concept(vs.PHASE, vs.PHASE_RELAPSE))
        db.session.commit()
        assert load_builtin() == 1
        db.session.commit()
        assert concept_label(vs.PHASE, vs.PHASE_RELAPSE) == "Rechute du cancer"
        assert concept_label(vs.TOPOGRAPHY, "C50.2") == "Libellé modifié par un import"


def test_every_organ_belongs_to_a_builtin_appareil(app):
    with app.app_context():
        appareils = {code for code, _ in concept_choices(vs.APPAREIL)}
        organs = active_concepts(vs.ORGAN)
        assert {o.code for o in organs} >= {"76752008", "MED-251", "MED-255", "41216001"}
        assert all(o.parent_code in appareils for o in organs)
        breast = [code for code, _ in concept_choices(vs.ORGAN, parent_code="76752008")]
        assert breast == ["76752008"]
        digestive = {code for code, _ in concept_choices(vs.ORGAN, parent_code="86762007")}
        assert "MED-251" in digestive and "41216001" not in digestive


@needs_official
def test_builtin_concepts_are_exactly_those_of_the_official_files():
    """Same OID, codes, code systems and labels as the files (specialty labels excepted)."""
    for name, builtin in BUILTIN.items():
        official = parse_file(OFFICIAL / f"{name}.xml")
        assert official.name == name
        assert official.oid == builtin.oid, name
        by_code = {c.code: c for c in official.concepts}
        for code, system, label, _parent in builtin.concepts:
            assert code in by_code, f"{name}: {code} absent of the official file"
            assert by_code[code].code_system == system, f"{name}: {code}"
            if name != vs.SPECIALTY:
                assert by_code[code].label == label, f"{name}: {code}"


# --- import of the official files ------------------------------------------------------------


@needs_official
def test_import_of_the_official_folder_updates_builtin_rows_and_is_idempotent(app, client, login):
    with app.app_context():
        builtin_ids = {
            (c.value_set, c.code): c.id
            for c in db.session.scalars(select(Concept).where(Concept.value_set.in_(BUILTIN)))
        }
        started = time.perf_counter()
        summaries = import_value_sets(read_value_sets(OFFICIAL))
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"\nofficial folder: {len(summaries)} files imported in {elapsed:.2f} s")
        assert elapsed < 60
        assert len(summaries) == len(list(OFFICIAL.glob("JDV_*.xml")))
        by_name = {s.value_set: s for s in summaries}
        # Built-in rows were updated in place: same ids, no duplicate.
        for key, concept_id in builtin_ids.items():
            assert find_concept(*key).id == concept_id, key
        assert by_name[vs.TOPOGRAPHY].unchanged == len(BUILTIN[vs.TOPOGRAPHY].concepts)
        assert by_name[vs.TOPOGRAPHY].updated == by_name[vs.TOPOGRAPHY].retired == 0
        assert by_name[vs.SPECIALTY].updated == len(BUILTIN[vs.SPECIALTY].concepts)
        counts = dict(
            db.session.execute(
                select(Concept.value_set, func.count()).group_by(Concept.value_set)
            ).all()
        )
        for name in (vs.MORPHOLOGY, vs.TOPOGRAPHY, vs.ORGAN, vs.SPECIALTY):
            assert counts[name] == len(parse_file(OFFICIAL / f"{name}.xml").concepts), name
        assert counts[vs.TOPOGRAPHY] == 724 and counts[vs.MORPHOLOGY] == 1032
        # The .tabs suffix of the NOS exports is dropped from the name.
        specialty = db.session.scalar(select(ValueSet).where(ValueSet.name == vs.SPECIALTY))
        assert specialty.version is None and specialty.source == "import"
        assert not db.session.scalar(select(func.count()).where(ValueSet.name.like("%.tabs")))
        # What files do not carry is kept: organ → appareil links, built-in order first.
        assert find_concept(vs.ORGAN, "MED-251").parent_code == "86762007"
        first = active_concepts(vs.TOPOGRAPHY)[0]
        assert first.code == "C50"
        # The placeholder-only value sets are imported empty, with a warning.
        assert by_name["JDV_Evaluation_AGGIR_PA_CISIS"].warnings
        audit_count = db.session.scalar(select(func.count()).select_from(AuditEntry))

        again = import_value_sets(read_value_sets(OFFICIAL))
        db.session.commit()
        assert not any(s.changed for s in again)
        assert sum(s.added + s.updated + s.retired for s in again) == 0
        # Only the run itself is traced when nothing changed.
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_count + 1

    login("physician")
    response = client.get(SEARCH, query_string={"jeu": vs.TOPOGRAPHY, "q": "sein quadrant"})
    codes = [item["code"] for item in response.get_json()]
    assert codes[:4] == ["C50.2", "C50.3", "C50.4", "C50.5"]
    response = client.get(SEARCH, query_string={"jeu": vs.MORPHOLOGY, "q": "canalaire infiltrant"})
    assert "8500/3" in [item["code"] for item in response.get_json()]


# --- import of synthetic files -----------------------------------------------------------------


def test_import_adds_updates_retires_and_reactivates(app, tmp_path):
    name = "JDV_Test_CISIS"
    write_svs(
        tmp_path,
        name,
        [
            concept_xml("A1", label="Premier"),
            concept_xml("A2", label="Deuxième"),
            concept_xml("A3", label="Troisième"),
            concept_xml("A4", label="Fin future", date_fin="29991231000000"),
        ],
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "JDV_Test_CISIS (nouveau) : 4 ajouté(s), 0 mis à jour, 0 retiré(s)" in result.output
    assert all(c.active for c in concepts_of(app, name).values())

    # A1 relabelled, A2 retired by its end date, A3 no longer listed, A5 new.
    write_svs(
        tmp_path,
        name,
        [
            concept_xml("A1", label="Premier (nouveau libellé)"),
            concept_xml("A2", label="Deuxième", date_fin="20240101000000"),
            concept_xml("A4", label="Fin future", date_fin="29991231000000"),
            concept_xml("A5", label="Cinquième"),
        ],
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 ajouté(s), 1 mis à jour, 2 retiré(s), 1 inchangé(s)" in result.output
    rows = concepts_of(app, name)
    assert rows["A1"].label == "Premier (nouveau libellé)" and rows["A1"].active
    assert rows["A1"].search_key == "PREMIER (NOUVEAU LIBELLE)"
    assert rows["A2"].retired_at.isoformat() == "2024-01-01T00:00:00"
    assert rows["A3"].retired_at is not None
    assert rows["A4"].active and rows["A5"].active
    assert rows["A5"].sort_order > rows["A4"].sort_order
    with app.app_context():
        assert [c for c, _ in concept_choices(name)] == ["A1", "A4", "A5"]

    # Same file again: nothing changes, nothing is audited but the run.
    before = snapshot(app)
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "0 ajouté(s), 0 mis à jour, 0 retiré(s), 5 inchangé(s)" in result.output
    after = snapshot(app)
    assert after[:2] == before[:2] and after[2] == before[2] + 1

    # A3 listed again without an end date: active again.
    write_svs(tmp_path, name, [concept_xml("A3", label="Troisième")], file_name=f"{name}.xml")
    result = run_import(app, tmp_path)
    assert "0 ajouté(s), 1 mis à jour, 3 retiré(s), 1 inchangé(s)" in result.output
    rows = concepts_of(app, name)
    assert rows["A3"].active and not rows["A1"].active


def test_import_writes_one_audit_row_per_changed_file(app, tmp_path):
    write_svs(tmp_path, "JDV_Un_CISIS", [concept_xml("X", label="x")], oid="1.2.3.1")
    write_svs(tmp_path, "JDV_Deux_CISIS", [concept_xml("Y", label="y")], oid="1.2.3.2")
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(3)).all()
        run, *files = rows
        assert run.action == "terminology.import_run"
        assert run.details_dict()["files"] == 2 and run.details_dict()["added"] == 2
        assert {f.action for f in files} == {"terminology.import"}
        assert {f.object_id for f in files} == {"JDV_Un_CISIS", "JDV_Deux_CISIS"}
        details = files[0].details_dict()
        assert details["added"] == 1 and details["file"].endswith(".xml")
        value_set = db.session.scalar(select(ValueSet).where(ValueSet.name == "JDV_Un_CISIS"))
        assert value_set.oid == "1.2.3.1" and value_set.source == "import"
        assert value_set.revision_date.isoformat() == "2024-07-19"


def test_import_of_one_file_leaves_other_value_sets_alone(app, tmp_path):
    path = write_svs(
        tmp_path,
        vs.PHASE,
        [concept_xml(vs.PHASE_INITIAL, "1.2.250.1.213.1.1.4.322", "Phase initiale du cancer")],
        oid="1.2.250.1.213.1.1.4.2.281.13",
    )
    write_svs(tmp_path, "JDV_Autre_CISIS", [concept_xml("Z", label="z")])
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "1 fichier(s)" in result.output
    with app.app_context():
        assert concept_choices(vs.PHASE) == [(vs.PHASE_INITIAL, "Phase initiale du cancer")]
        assert find_concept(vs.PHASE, vs.PHASE_RELAPSE, active_only=False).retired_at
        assert db.session.scalar(select(ValueSet).where(ValueSet.name == "JDV_Autre_CISIS")) is None
        assert concept_choices(vs.CASE_STATUS)  # untouched


def test_tabs_suffix_placeholders_and_duplicate_codes(app, tmp_path):
    path = write_svs(
        tmp_path,
        "JDV_J99_Exemple_CISIS.tabs",
        [
            concept_xml("", system="", label="à compléter"),
            concept_xml("K1", label="Un"),
            concept_xml("K1", label="Un bis"),
            {"code": "K2", "codeSystem": "1.2.3", "displayName": "Sans dateFin"},
        ],
        file_name="JDV_J99_Exemple_CISIS.xml",
        value_set_attrs={"version": None, "dateFin": "20241213120000"},
    )
    parsed = parse_file(path)
    assert parsed.name == "JDV_J99_Exemple_CISIS"
    assert parsed.version is None and parsed.ends_at.year == 2024
    assert [c.code for c in parsed.concepts] == ["K1", "K2"]
    assert parsed.concepts[0].label == "Un"
    assert len(parsed.warnings) == 2
    assert "ligne 7" in parsed.warnings[0] and "ligne 9" in parsed.warnings[1]
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "attention" in result.output and "occurrence ignorée" in result.output


# --- malformed files ------------------------------------------------------------------------


MALFORMED = [
    # (file content after the XML declaration line, expected message fragment)
    ("<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n<ValueSet>\n", "ligne 4 : XML mal"),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X' id='1.2.3'><ConceptList>\n"
        "<Concept code='A' codeSystem='1.2' displayName='a'>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 5 : XML mal formé (Opening and ending tag mismatch: Concept line 4 and ConceptList)",
    ),
    ("<ValueSetResponse xmlns='urn:ihe:iti:svs:2008'/>\n", "ligne 2 : élément racine"),
    ("<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'/>\n", "ligne 2 : élément ValueSet"),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X' id='1.2.3'><ConceptList>\n"
        "<Concept codeSystem='1.2' displayName='sans code'/>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 4 : concept sans code",
    ),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X' id='1.2.3'><ConceptList>\n"
        "<Concept code='' codeSystem='1.2' displayName='code vide'/>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 4 : concept sans code",
    ),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X' id='1.2.3'><ConceptList>\n"
        "<Concept code='A' codeSystem='1.2' displayName='a'/>\n"
        "<Concept code='B' codeSystem='1.2' displayName='b' dateFin='31/12/2024'/>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 5 : date de fin « 31/12/2024 » invalide",
    ),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X'><ConceptList>\n"
        "<Concept code='A' codeSystem='1.2' displayName='a'/>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 3 : ValueSet sans identifiant",
    ),
    (
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>\n"
        "<ValueSet displayName='JDV_X' id='1.2.3'><ConceptList>\n"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        "ligne 3 : ConceptList ne contient aucun concept",
    ),
    ("", "ligne 1 : XML mal formé"),
]


@pytest.mark.parametrize(("body", "expected"), MALFORMED)
def test_malformed_file_is_rejected_with_file_and_line(app, tmp_path, body, expected):
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n' if body else ""
    path = tmp_path / "JDV_Casse_CISIS.xml"
    path.write_text(declaration + body, encoding="utf-8")
    before = snapshot(app)
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "Import refusé, la base n'a pas été modifiée" in result.output
    assert f"JDV_Casse_CISIS.xml, {expected}" in result.output
    assert snapshot(app) == before


def test_second_of_three_files_malformed_writes_nothing(app, tmp_path):
    write_svs(tmp_path, "JDV_A_CISIS", [concept_xml("A", label="a")])
    bad = write_svs(tmp_path, "JDV_B_CISIS", [concept_xml("B", label="b")])
    bad.write_text(bad.read_text().replace('code="B" ', ""), encoding="utf-8")
    write_svs(tmp_path, "JDV_C_CISIS", [concept_xml("C", label="c")])
    # A file of the folder also updates a built-in value set: it must not be applied either.
    write_svs(
        tmp_path,
        vs.PHASE,
        [concept_xml(vs.PHASE_INITIAL, "1.2.250.1.213.1.1.4.322", "Changé")],
        oid="1.2.250.1.213.1.1.4.2.281.13",
    )
    before = snapshot(app)
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "JDV_B_CISIS.xml, ligne 7 : concept sans code" in result.output
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(ValueSet).where(ValueSet.name == "JDV_A_CISIS")) is None
        assert concept_label(vs.PHASE, vs.PHASE_INITIAL) == "Phase initiale du cancer"


def test_every_bad_file_is_reported_and_duplicate_value_sets_refused(tmp_path):
    write_svs(tmp_path, "JDV_A_CISIS", [concept_xml("A", label="a")])
    write_svs(tmp_path, "JDV_A_CISIS", [concept_xml("A", label="a")], file_name="JDV_A2.xml")
    (tmp_path / "JDV_Vide.xml").write_text("", encoding="utf-8")
    (tmp_path / "Autre.xml").write_text("pas du XML", encoding="utf-8")  # not a JDV_ file
    with pytest.raises(ImportRejected) as rejected:
        read_value_sets(tmp_path)
    errors = rejected.value.errors
    assert len(errors) == 2
    assert errors[0].startswith("JDV_A_CISIS.xml : le jeu de valeurs JDV_A_CISIS figure déjà")
    assert errors[0].endswith("dans JDV_A2.xml.")
    assert errors[1].startswith("JDV_Vide.xml, ligne 1 : XML mal formé")


def test_missing_path_or_empty_folder_is_refused(app, tmp_path):
    result = run_import(app, tmp_path / "absent")
    assert result.exit_code == 1 and "introuvable" in result.output
    result = run_import(app, tmp_path)
    assert result.exit_code == 1 and "aucun fichier JDV_*.xml" in result.output


def test_external_entities_are_not_resolved(app, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    path = tmp_path / "JDV_Xxe_CISIS.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        "<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'>"
        "<ValueSet displayName='JDV_Xxe_CISIS' id='1.2.3'><ConceptList>"
        "<Concept code='A' codeSystem='1.2' displayName='&x;'/>"
        "</ConceptList></ValueSet></RetrieveValueSetResponse>\n",
        encoding="utf-8",
    )
    with pytest.raises(SvsError) as error:
        parse_file(path)
    assert "ligne 3 : XML mal formé" in str(error.value) and "SECRET" not in str(error.value)


# --- type-ahead ------------------------------------------------------------------------------


def search(client, **params):
    response = client.get(SEARCH, query_string=params)
    return response.status_code, response.get_json()


def test_typeahead_finds_words_in_any_order_without_accents(client, login):
    login("physician")
    status, items = search(client, jeu=vs.TOPOGRAPHY, q="sein quadrant")
    assert status == 200
    assert items[0] == {
        "code": "C50.2",
        "label": "Tumeur maligne du quadrant supéro-interne du sein",
    }
    assert {i["code"] for i in items} == {"C50.2", "C50.3", "C50.4", "C50.5"}
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="QUADRANT supero")
    assert [i["code"] for i in items] == ["C50.2", "C50.4"]
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="colon sigmoide")
    assert [i["code"] for i in items] == ["C18.7"]
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="côlon SIGMOÏDE")
    assert [i["code"] for i in items] == ["C18.7"]
    _, items = search(client, jeu=vs.MORPHOLOGY, q="lobul")
    assert "8520/3" in [i["code"] for i in items]
    _, items = search(client, jeu=vs.APPAREIL, q="oeil")
    assert [i["label"] for i in items] == ["œil"]


def test_typeahead_by_code_prefix_ranks_the_exact_code_first(client, login):
    login("coordinator")
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="c50")
    codes = [i["code"] for i in items]
    assert codes[0] == "C50" and set(codes) == {
        "C50",
        *(f"C50.{n}" for n in (0, 1, 2, 3, 4, 5, 6, 8, 9)),
    }
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="C34.1")
    assert [i["code"] for i in items] == ["C34.1"]
    _, items = search(client, jeu=vs.MORPHOLOGY, q="8500/")
    assert [i["code"] for i in items] == ["8500/3", "8500/2"]
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="C50 quadrant inféro")
    assert [i["code"] for i in items] == ["C50.3", "C50.5"]


def test_typeahead_limit_retired_concepts_and_wildcards(app, client, login):
    login("admin")
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="tumeur", limite="3")
    assert len(items) == 3
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="tumeur")
    assert len(items) == 20
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="tumeur", limite="50")
    assert len(items) == 50
    with app.app_context():
        find_concept(vs.TOPOGRAPHY, "C50.2").retired_at = utcnow()
        db.session.commit()
    _, items = search(client, jeu=vs.TOPOGRAPHY, q="sein quadrant")
    assert "C50.2" not in [i["code"] for i in items]
    for wildcard in ("%", "_", "\\"):
        status, items = search(client, jeu=vs.TOPOGRAPHY, q=wildcard)
        assert (status, items) == (200, [])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"q": "sein"}, "« jeu »"),
        ({"jeu": "", "q": "sein"}, "« jeu »"),
        ({"jeu": vs.TOPOGRAPHY}, "« q »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "   "}, "« q »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "x" * 101}, "trop long"),
        ({"jeu": "J" * 81, "q": "sein"}, "trop long"),
        ({"jeu": vs.TOPOGRAPHY, "q": "sein", "limite": "abc"}, "« limite »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "sein", "limite": "0"}, "« limite »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "sein", "limite": "51"}, "« limite »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "sein", "limite": "-1"}, "« limite »"),
        ({"jeu": vs.TOPOGRAPHY, "q": "sein", "limite": "²"}, "« limite »"),
    ],
)
def test_typeahead_bad_parameters_answer_400_in_french(client, login, params, fragment):
    login("physician")
    status, body = search(client, **params)
    assert status == 400
    assert fragment in body["error"]


def test_typeahead_unknown_value_set_is_404_json(client, login):
    login("physician")
    status, body = search(client, jeu="JDV_Inconnu_CISIS", q="sein")
    assert status == 404
    assert body == {"error": "Jeu de valeurs inconnu : « JDV_Inconnu_CISIS »."}


def test_typeahead_is_for_logged_in_clinical_roles_and_admins(client, login):
    response = client.get(SEARCH, query_string={"jeu": vs.APPAREIL, "q": "sein"})
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login("gp")
    response = client.get(SEARCH, query_string={"jeu": vs.APPAREIL, "q": "sein"})
    assert response.status_code == 403


# --- admin page ---------------------------------------------------------------------------------


def test_admin_page_lists_value_sets_with_counts(app, client, login, tmp_path):
    write_svs(
        tmp_path,
        "JDV_Admin_CISIS",
        [concept_xml("A", label="a"), concept_xml("B", label="b", date_fin="20200101")],
        oid="1.2.250.1.999.42",
    )
    assert run_import(app, tmp_path).exit_code == 0
    login("admin")
    html = client.get("/admin/terminologies", query_string={"q": "admin_cisis"}).get_data(
        as_text=True
    )
    assert "JDV_Admin_CISIS" in html and "1.2.250.1.999.42" in html
    assert "Importé" in html and "JDV_Tumeur_CISIS" not in html
    row = html.split("JDV_Admin_CISIS", 1)[1].split("</tr>", 1)[0]
    assert '<td class="text-end">1</td>\n    <td class="text-end">1</td>' in row

    html = client.get("/admin/terminologies", query_string={"source": "builtin"}).get_data(
        as_text=True
    )
    assert "JDV_Tumeur_CISIS" in html and "1.2.250.1.213.1.1.4.2.281.21" in html
    assert "JDV_Admin_CISIS" not in html
    for params in ({"page": "abc"}, {"page": "999"}, {"source": "nimporte"}, {"q": "x" * 500}):
        assert client.get("/admin/terminologies", query_string=params).status_code == 200


def test_admin_page_is_in_the_admin_navigation(client, login):
    login("admin")
    assert 'href="/admin/terminologies"' in client.get("/").get_data(as_text=True)
