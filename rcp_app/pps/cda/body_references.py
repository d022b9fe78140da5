"""« DOCUMENTS RÉFÉRENCÉS » (the RCP fiche the programme implements and, for a new version, the
version it replaces) and the information on personal data the volet shows every patient."""

from __future__ import annotations

from ...fiches.cda.identifiers import uuid_oid
from ...fiches.cda.xml import (
    HL7,
    Ids,
    ans_code,
    el,
    french_date,
    label_of,
    loinc,
    narrative_table,
    reference,
    section,
    template_ids,
)
from .sections import COMMENT_SECTION, paragraph, sentences, translated_section

EXTERNAL_REFERENCES = ("1.3.6.1.4.1.19376.1.5.3.1.4.4", "1.2.250.1.213.1.1.3.35")
# The volet's mandatory patient information: the establishment's text (here the default the
# volet proposes), then the INCa's, shown as is.
PERSONAL_DATA_TEXTS = (
    "Les établissements ou professionnels de santé qui mettent en œuvre votre programme "
    "thérapeutique et votre suivi, ainsi que ceux qui assurent vos soins oncologiques de "
    "support, collectent, pour accomplir leur travail, des données concernant votre santé et "
    "votre identité. Ces données sont couvertes par le secret médical et sont strictement "
    "confidentielles. Elles sont utilisées sous la responsabilité de ces établissements ou "
    "professionnels de santé que vous pouvez solliciter pour être plus informé ou pour exercer "
    "vos droits sur vos données.",
    "Des acteurs de la santé publique sont autorisés à réutiliser certaines de vos données dans "
    "le cadre de projets de recherche pour, par exemple, améliorer les connaissances sur les "
    "causes de cancer, étudier le parcours et la qualité des soins, évaluer les dispositifs de "
    "lutte contre le cancer et, plus largement, conduire des études pour améliorer la prise en "
    "charge des patients.",
    "Dans ce cadre et, sauf opposition de votre part, elles pourront être transmises à certains "
    "de ces acteurs, notamment, aux registres des cancers de votre région et à l’Institut "
    "national du cancer (INCa). Elles pourront ainsi être transférées vers la plateforme de "
    "données en cancérologie de l’INCa et, éventuellement, être reliées aux données du Système "
    "national des données de santé (SNDS) qui comporte notamment des données de l’assurance "
    "maladie et de l’activité hospitalière.",
    "Pour plus d’information sur les registres des cancers, la plateforme des données en "
    "cancérologie de l’INCa et sur l’exercice de vos droits, vous pouvez consulter son site "
    "http://lesdonnees.e-cancer.fr",
)


def person_name(person: dict | None) -> str:
    """« Dr MARTIN Claire », as the documents write a professional."""
    if not person:
        return ""
    return " ".join(
        part
        for part in (person.get("title"), person["last_name"].upper(), person["first_name"])
        if part
    )


def _fiche_text(fiche: dict, coordinator: dict | None) -> str:
    proposal = fiche.get("proposal")
    return sentences(
        f"{fiche['rcp_name']} du {french_date(fiche.get('session_date'))}, fiche validée le "
        f"{french_date(fiche.get('validated_at'))} (version {fiche['version']})",
        f"Médecin coordonnateur : {person_name(coordinator)}" if coordinator else "",
        f"Proposition de la RCP : {label_of(proposal)}" if proposal else "",
        fiche.get("proposal_details") or "",
        f"Identifiant : {uuid_oid(fiche['document_id'])}",
    )


def _references(snapshot: dict) -> list[tuple]:
    """(label, narrative, anchor, document id, set id, version) of each document cited."""
    document, fiche = snapshot["document"], snapshot["fiche"]
    coordinator = snapshot["people"].get("rcp_coordinator")
    cited = [
        (
            "Fiche RCP",
            _fiche_text(fiche, coordinator),
            "document-ref-fiche",
            fiche["document_id"],
            fiche["set_id"],
            fiche["version"],
        )
    ]
    if document["version"] > 1 and document.get("replaces_id"):
        previous = document["version"] - 1
        cited.append(
            (
                "Programme personnalisé de soins remplacé",
                sentences(
                    f"Version {previous} de ce programme, remplacée par la présente version",
                    f"Identifiant : {uuid_oid(document['replaces_id'])}",
                ),
                "document-ref-pps",
                document["replaces_id"],
                document["set_id"],
                previous,
            )
        )
    return cited


def referenced_documents(body, snapshot: dict, ids: Ids) -> None:
    node = section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.55",),
        loinc("55107-7", "Documents référencés"),
        "DOCUMENTS RÉFÉRENCÉS",
    )
    cited = _references(snapshot)
    text = narrative_table(node, [(label, words, anchor) for label, words, anchor, *_ in cited])
    text.find(f"{{{HL7}}}table").set("ID", "documents-references")
    act = el(el(node, "entry"), "act", classCode="ACT", moodCode="EVN")
    template_ids(act, *EXTERNAL_REFERENCES)
    el(act, "id", root=ids("references"))
    el(act, "code", nullFlavor="NA")
    reference(act, "text", "documents-references")
    for _label, _words, anchor, document_id, set_id, version in cited:
        external = el(
            el(act, "reference", typeCode="REFR"),
            "externalDocument",
            classCode="DOC",
            moodCode="EVN",
        )
        el(external, "id", root=uuid_oid(document_id))
        reference(external, "text", anchor)
        el(external, "setId", root=uuid_oid(set_id))
        el(external, "versionNumber", value=str(version))


def personal_data_information(body, snapshot: dict, ids: Ids) -> None:
    node = translated_section(
        body,
        ids,
        COMMENT_SECTION,
        loinc("55112-7", "Commentaire"),
        ans_code("GEN-294", "Information pour le patient"),
        "INFORMATION SUR LES DONNÉES PERSONNELLES VOUS CONCERNANT",
    )
    for text in PERSONAL_DATA_TEXTS:
        paragraph(node, text)
