"""The words of the patient's programme (PPS PDF), explained in plain French.

The document is read by the patient, at home, often long after the consultation: every medical
word it may print and every abbreviation has an explanation here, and the document ends with
the entries it actually uses (``used_in``), no more: a glossary of forty words the patient never
meets hides the five that matter.

A term is found by its pattern, case-insensitive and as whole words, so « Chimiothérapie
adjuvante » finds both « chimiothérapie » and « adjuvant ». An abbreviation is found as written
(capitals), as a whole word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    term: str  # as the glossary prints it
    meaning: str  # short sentences, « vous », no unexplained abbreviation
    pattern: re.Pattern = field(compare=False, repr=False)
    is_abbreviation: bool = False


def _term(term: str, meaning: str, pattern: str | None = None) -> Entry:
    """``pattern`` defaults to the term itself, singular or plural."""
    words = pattern or re.escape(term) + "[sx]?"
    return Entry(term, meaning, re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE))


def _abbreviation(short: str, written_out: str, meaning: str = "") -> Entry:
    text = f"{written_out}. {meaning}".strip() if meaning else f"{written_out}."
    return Entry(short, text, re.compile(rf"(?<!\w){re.escape(short)}(?!\w)"), True)


TERMS = (
    _term(
        "activité physique adaptée",
        "Des exercices physiques choisis pour vous, encadrés par un professionnel. "
        "Ils aident à garder des forces et à moins ressentir la fatigue.",
    ),
    _term(
        "adjuvant",
        "Se dit d'un traitement donné après le traitement principal, souvent après "
        "l'opération. Il diminue le risque que la maladie revienne.",
        r"adjuvante?s?",
    ),
    _term(
        "allogreffe, autogreffe",
        "Une greffe de cellules qui fabriquent le sang. Les cellules viennent d'un donneur "
        "(allogreffe) ou de vous-même (autogreffe).",
        r"allogreffes?(?: / autogreffes?)?|autogreffes?",
    ),
    _term(
        "bilan sanguin, prise de sang",
        "Une analyse de votre sang au laboratoire. On prélève un peu de sang au bras.",
        r"bilans? sanguins?|prises? de sang",
    ),
    _term(
        "cancérologie, oncologie",
        "La médecine qui soigne les cancers. Un oncologue est un médecin spécialiste des cancers.",
        r"cancérologie|oncologie|oncologues?",
    ),
    _term(
        "chimiothérapie",
        "Des médicaments qui détruisent les cellules du cancer. Ils sont donnés par une "
        "perfusion ou en comprimés.",
    ),
    _term(
        "chirurgie, chirurgien",
        "La chirurgie soigne par une opération. Le chirurgien est le médecin qui opère.",
        r"chirurgies?|chirurgien(?:ne)?s?",
    ),
    _term(
        "chambre implantable",
        "Un petit boîtier placé sous la peau, relié à une veine. Les perfusions passent par "
        "lui : vos veines du bras sont ainsi protégées.",
        r"chambres? implantables?",
    ),
    _term(
        "convalescence",
        "La période de repos après une opération ou un traitement, le temps de reprendre "
        "des forces.",
    ),
    _term(
        "cure",
        "Une séance de traitement. Entre deux cures, une pause permet à votre corps de récupérer.",
    ),
    _term(
        "curiethérapie",
        "Une radiothérapie faite de l'intérieur : une petite source de rayons est placée "
        "dans la tumeur ou tout près d'elle.",
    ),
    _term(
        "diététicien(ne)",
        "Le professionnel de l'alimentation. Il vous aide à bien manger pendant vos traitements.",
        r"diététicien(?:ne)?s?",
    ),
    _term(
        "diététique et nutrition",
        "Tout ce qui concerne votre alimentation : ce que vous mangez, votre poids, votre appétit.",
        r"diététiques?|nutrition(?:nel(?:le)?s?)?",
    ),
    _term(
        "échographie",
        "Un examen qui fait des images de l'intérieur du corps avec des ultrasons. "
        "Il ne fait pas mal.",
    ),
    _term(
        "endoscopie interventionnelle",
        "Un soin fait avec un tube fin muni d'une caméra, passé par une voie naturelle "
        "(la bouche par exemple), sans ouvrir le corps.",
        r"endoscopies? interventionnelles?",
    ),
    _term(
        "imagerie médicale",
        "Un examen qui fait des images de l'intérieur du corps : radiographie, "
        "ultrasons ou aimant par exemple.",
        r"imageries?(?: médicales?)?",
    ),
    _term(
        "fenêtre thérapeutique",
        "Une pause du traitement, décidée par vos médecins.",
        r"fenêtres? thérapeutiques?",
    ),
    _term(
        "ganglion sentinelle",
        "Le premier ganglion qui reçoit la lymphe venant de la tumeur. Le chirurgien "
        "l'enlève pour vérifier que la maladie ne s'est pas étendue.",
        r"ganglions? sentinelles?",
    ),
    _term(
        "gynécologie",
        "La médecine des organes de la femme, dont les seins, et de la grossesse.",
        r"gynécologi(?:e|que)s?(?:-obstétrique)?|gynécologues?",
    ),
    _term(
        "hôpital de jour",
        "Un service où vous venez pour un soin ou un traitement et rentrez chez vous le même jour.",
        r"hôpita(?:l|ux) de jour",
    ),
    _term(
        "hormonothérapie",
        "Un traitement qui empêche certaines hormones de faire grandir le cancer. "
        "Il se prend souvent en comprimés, pendant plusieurs années.",
    ),
    _term(
        "immunothérapie",
        "Un traitement qui aide vos propres défenses (le système immunitaire) à combattre "
        "le cancer.",
    ),
    _term(
        "infirmier(ère) de coordination",
        "L'infirmier ou l'infirmière qui vous accompagne pendant tout votre parcours. "
        "Vous pouvez l'appeler pour toute question pratique.",
        r"infirmi(?:er|ère)s? de coordination",
    ),
    _term(
        "intervention chirurgicale",
        "Une opération.",
        r"interventions? chirurgicales?",
    ),
    _term(
        "irathérapie",
        "Un traitement par un médicament faiblement radioactif, pris par la bouche ou "
        "par une perfusion.",
    ),
    _term(
        "médecin référent",
        "Le médecin de l'hôpital qui suit votre traitement du cancer. C'est lui qui vous a "
        "remis ce programme.",
        r"médecins? référents?",
    ),
    _term(
        "médecin traitant",
        "Votre médecin de famille, que vous avez déclaré à votre caisse d'assurance maladie.",
        r"médecins? traitants?",
    ),
    _term(
        "radiologie interventionnelle",
        "Un soin fait par un radiologue en se guidant sur des images, avec une aiguille "
        "ou un tube très fin, sans opération.",
        r"radiologies? interventionnelles?",
    ),
    _term(
        "radiothérapie",
        "Un traitement par des rayons, dirigés précisément sur la zone à soigner. "
        "Les séances sont courtes et ne font pas mal.",
    ),
    _term(
        "scanner",
        "Un examen qui fait des images de l'intérieur du corps avec des rayons X. "
        "Il dure quelques minutes.",
        r"scanners?|tomodensitométries?",
    ),
    _term(
        "sénologie",
        "La médecine du sein.",
    ),
    _term(
        "soins de support",
        "Les soins qui vous aident à mieux vivre pendant la maladie : contre la douleur et la "
        "fatigue, pour l'alimentation, le moral, la vie sociale.",
        r"soins? (?:oncologiques? )?de support",
    ),
    _term(
        "surveillance active",
        "Pas de traitement pour l'instant, mais des examens réguliers. Vos médecins "
        "proposeront un traitement si la maladie change.",
    ),
    _term(
        "surveillance seule",
        "Pas de traitement, mais des consultations et des examens réguliers pour "
        "vérifier que tout va bien.",
    ),
    _term(
        "thérapie ciblée",
        "Des médicaments qui visent une particularité des cellules du cancer.",
        r"thérapies? ciblées?",
    ),
    _term(
        "tumorectomie",
        "Une opération qui enlève la tumeur seulement, en gardant le sein.",
    ),
)

ABBREVIATIONS = (
    _abbreviation(
        "3C",
        "Centre de coordination en cancérologie",
        "Il organise votre parcours de soins à l'hôpital.",
    ),
    _abbreviation("ALD", "Affection de longue durée", "Vos soins sont alors pris en charge."),
    _abbreviation(
        "AMM", "Autorisation de mise sur le marché", "L'accord officiel pour un médicament."
    ),
    _abbreviation("APA", "Activité physique adaptée"),
    _abbreviation("CH", "Centre hospitalier"),
    _abbreviation("CHU", "Centre hospitalier universitaire"),
    _abbreviation("CIM", "Classification internationale des maladies"),
    _abbreviation("CPAM", "Caisse primaire d'assurance maladie"),
    _abbreviation(
        "DCC",
        "Dossier communicant de cancérologie",
        "Le dossier que partagent les équipes qui soignent les cancers dans votre région.",
    ),
    _abbreviation("DMP", "Dossier médical partagé", "Votre dossier de santé en ligne."),
    _abbreviation("ECG", "Électrocardiogramme", "Un enregistrement des battements du cœur."),
    _abbreviation("HAD", "Hospitalisation à domicile"),
    _abbreviation("HDJ", "Hôpital de jour"),
    _abbreviation("IDE", "Infirmier(ère) diplômé(e) d'État"),
    _abbreviation("IDEC", "Infirmier(ère) de coordination"),
    _abbreviation(
        "INS",
        "Identité nationale de santé",
        "Le numéro qui identifie chaque patient dans tous les documents de santé.",
    ),
    _abbreviation("IPP", "Identifiant permanent du patient", "Votre numéro dans l'hôpital."),
    _abbreviation(
        "IRM",
        "Imagerie par résonance magnétique",
        "Un examen qui fait des images très précises du corps avec un gros aimant. "
        "Il ne fait pas mal mais il est bruyant.",
    ),
    _abbreviation(
        "NFS", "Numération formule sanguine", "Une prise de sang qui compte les cellules du sang."
    ),
    _abbreviation(
        "ORL", "Oto-rhino-laryngologie", "La médecine des oreilles, du nez et de la gorge."
    ),
    _abbreviation(
        "PPS",
        "Programme personnalisé de soins",
        "Le document qui présente votre traitement et votre calendrier.",
    ),
    _abbreviation(
        "RCP",
        "Réunion de concertation pluridisciplinaire",
        "Des médecins de plusieurs spécialités étudient ensemble votre situation et proposent "
        "un traitement.",
    ),
    _abbreviation(
        "RPPS",
        "Répertoire partagé des professionnels de santé",
        "La liste officielle des médecins et des soignants.",
    ),
    _abbreviation("SAMU", "Service d'aide médicale urgente", "Appelez le 15."),
    _abbreviation("SSR", "Soins de suite et de réadaptation"),
    _abbreviation("TDM", "Tomodensitométrie", "C'est le scanner."),
    _abbreviation(
        "TEP",
        "Tomographie par émission de positons",
        "Un examen d'images après l'injection d'un produit faiblement radioactif.",
    ),
    _abbreviation(
        "TNM",
        "Tumeur, ganglions, métastases",
        "La façon dont les médecins décrivent l'étendue d'un cancer.",
    ),
)

ENTRIES = TERMS + ABBREVIATIONS


def _sort_key(entry: Entry) -> str:
    plain = unicodedata.normalize("NFKD", entry.term)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def used_in(text: str) -> list[Entry]:
    """The entries ``text`` uses, and those their explanations use in turn (an explanation
    may name another term), in alphabetical order."""
    found: list[Entry] = []
    pending = text
    while new := [e for e in ENTRIES if e not in found and e.pattern.search(pending)]:
        found += new
        pending = " ".join(e.meaning for e in new)
    return sorted(found, key=_sort_key)


def meaning_of(label: str) -> str | None:
    """What a coded value's label means, when the whole label is a glossary term
    (« radiothérapie », « Surveillance active »)."""
    label = label.strip()
    return next((e.meaning for e in ENTRIES if e.pattern.fullmatch(label)), None)
