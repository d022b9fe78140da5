"""The MSSanté e-mail of a signed care programme (PPS) and what its IHE_XDM.ZIP says of it.

Same message as a fiche's (message.build_message): the patient's sealed PDF and the
IHE_XDM.ZIP holding the CDA R2 CANCER-PPS; only the words and the XDS codes differ. The subject
carries no patient identity; the body names the patient by initials and birth year. A PPS
snapshot has no ``rcp`` or ``session`` key: the RCP is the one of the fiche it implements
(``snapshot["fiche"]``), and it has no verification code.
"""

from __future__ import annotations

from datetime import datetime

from .message import XDM_FILE_NAME, Mail, patient_line
from .xdm import DocumentProfile, signer_name

LOINC = "2.16.840.1.113883.6.1"
# JDV_J07-XdsTypeCode-CISIS (../ans-cisis/jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml), the
# code the CANCER-PPS header must carry (schematron Entete_Cancer-PPS, official example).
PPS_TYPE_CODE = ("18776-5", LOINC, "Plan personnalisé de soins")
# JDV_J06-XdsClassCode-CISIS (TRE_A03-ClasseDocument): a care plan is neither a report (10) nor
# a synthesis (11). Not in the local kit: read from the ANS terminology server's JDV_J06.
PPS_CLASS_CODE = ("44", "1.2.250.1.213.1.1.4.1", "Plan de soins, protocole de soins")
# TRE_A06-FormatCodeComplementaire (JDV_J10-XdsFormatCode-CISIS), the entry the ANS association
# ASS_A11 (CDA template -> formatCode) gives the CANCER-PPS template 1.2.250.1.213.1.1.1.26.
PPS_FORMAT_CODE = (
    "urn:asip:ci-sis:pps-cancer:2017",
    "1.2.250.1.213.1.1.4.2.282",
    "Programme Personnalisé de Soins - Cancer",
)
TITLE = "Programme personnalisé de soins"


def _french_date(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d/%m/%Y")


class CarePlanProfile(DocumentProfile):
    """The CANCER-PPS volet in the XDM archive."""

    type_code = PPS_TYPE_CODE
    class_code = PPS_CLASS_CODE
    format_code = PPS_FORMAT_CODE
    readme_heading = "Archive IHE XDM — programme personnalisé de soins (PPS)"
    metadata_contents = "métadonnées XDS (IHE ITI, lot de soumission et programme)"
    cda_contents = "programme personnalisé de soins au format CDA R2 (CI-SIS, volet CANCER-PPS)"
    index_link = "Programme personnalisé de soins (document CDA R2, volet CANCER-PPS)"

    def title(self, snapshot: dict) -> str:
        return f"{snapshot['document']['title']} – {snapshot['fiche']['rcp_name']}"

    def description(self, snapshot: dict) -> str:
        return f"Envoi du programme personnalisé de soins par {snapshot['custodian']['name']}"

    def service_start(self, snapshot: dict) -> str:
        """The programme is drawn up when it is validated (the CDA's serviceEvent starts then)."""
        return snapshot["document"]["effective_time"]

    def readme_facts(self, snapshot: dict, sent_at: str) -> list[str]:
        fiche = snapshot["fiche"]
        return [
            f"Proposition de la {fiche['rcp_name']}, séance du "
            f"{_french_date(fiche['session_date'])}",
            f"Programme validé par : {signer_name(snapshot)}",
            f"Version du programme : {snapshot['document']['version']}",
            f"Envoyé le : {sent_at} (heure de Paris)",
        ]

    def verification(self, snapshot: dict) -> list[str]:
        return []  # the PDF is sealed, but a PPS has no verification code

    def index_summary(self, snapshot: dict) -> str:
        document = snapshot["document"]
        validated = _french_date(document["effective_time"])
        return f"programme validé le {validated}\n(version {document['version']})"


PPS_PROFILE = CarePlanProfile()


def pps_pdf_name(snapshot: dict) -> str:
    """The name the PPS page gives the same PDF (pps/views.py FILE_NAMES)."""
    document = snapshot["document"]
    return f"pps-{document['set_id']}-v{document['version']}.pdf"


def pps_subject(snapshot: dict) -> str:
    """Subject without any patient identity: RCP and version only."""
    return f"{TITLE} — {snapshot['fiche']['rcp_name']} (version {snapshot['document']['version']})"


def _physician(person: dict) -> str:
    """« Dr Claire MARTIN (Oncologie médicale) »."""
    title = f"{person['title']} " if person.get("title") else ""
    specialty = (person.get("specialty") or {}).get("label")
    name = f"{title}{person['first_name']} {person['last_name'].upper()}"
    return f"{name} ({specialty})" if specialty else name


def pps_body(snapshot: dict) -> str:
    document, fiche = snapshot["document"], snapshot["fiche"]
    validated = datetime.fromisoformat(document["effective_time"])
    lines = [
        "Bonjour,",
        "",
        "Veuillez trouver ci-joint le programme personnalisé de soins (PPS) remis au patient,"
        f" établi d'après la proposition de la {fiche['rcp_name']} (séance du"
        f" {_french_date(fiche['session_date'])}).",
        "",
        patient_line(snapshot),
        f"Version du programme : {document['version']}",
        f"Validé et signé le {validated.strftime('%d/%m/%Y à %H:%M')}"
        f" par {_physician(snapshot['people']['legal_authenticator'])}.",
    ]
    if document["version"] > 1 and document.get("amendment_reason"):
        lines.append(
            f"Cette version remplace la précédente. Motif : {document['amendment_reason']}"
        )
    lines += [
        "",
        "Pièces jointes :",
        f"- {pps_pdf_name(snapshot)} : le programme tel qu'il a été remis au patient (PDF"
        " scellé), à lire et à conserver ;",
        f"- {XDM_FILE_NAME} : le même programme au format structuré CDA R2 (CI-SIS, volet"
        " CANCER-PPS), pour intégration dans le dossier du patient par votre logiciel.",
        "",
        "Ce message vous est adressé par messagerie sécurisée de santé (MSSanté) ;"
        " il contient des données de santé à caractère personnel.",
        "",
        f"Secrétariat de la {fiche['rcp_name']} — {snapshot['custodian']['name']}",
    ]
    return "\n".join(lines) + "\n"


PPS_MAIL = Mail(pps_subject, pps_body, pps_pdf_name, PPS_PROFILE)
