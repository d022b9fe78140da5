"""What the year of history (history.py) is made of: the patients' journeys through the
breast and gynaecological RCPs, one function per presentation (the case form's values and the
RCP's decision, dated from the session's day), and the plan of each RCP's sessions (which are
cancelled, which lack the quorum, where cases come late, incomplete, postponed or refused).

Everything is invented; the clinical trials are fictional and named as such.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..patients.models import Patient
from .past_session import CHEMOTHERAPY, HORMONOTHERAPY, SURGERY

RADIOTHERAPY, BRACHYTHERAPY, TARGETED, IMMUNOTHERAPY = "C15313", "C15195", "C93352", "C15262"
BREAST = "76752008"
OVARY, UTERUS, CERVIX = "15497006", "23952005", "71252005"
RIGHT, LEFT = "24028007", "7771000"
BREAST_GUIDELINE = {
    "guideline_name": "Référentiel régional cancers du sein",
    "guideline_version": "2025",
}
GYNAECO_GUIDELINE = {
    "guideline_name": "Référentiel régional cancers gynécologiques",
    "guideline_version": "2024",
}
POSTPONED_AT_AGENDA = (
    "Bilan d'extension (TEP-scanner) prévu après la date limite : dossier reporté à la séance "
    "suivante."
)
QUORUM_MISSED = (
    "Quorum non atteint (aucun chirurgien présent) : dossier représenté à la séance suivante."
)
URGENT = "Quorum non atteint : décision prise en raison de l'urgence thérapeutique."
POSTPONED_AT_CLOSE = (
    "Relecture des lames demandée au pathologiste référent : dossier représenté à la séance "
    "suivante."
)


def day_text(day: date) -> str:
    """A date as the case form takes it."""
    return day.strftime("%d/%m/%Y")


# --- clinical content: one function per presentation -----------------------------------------


@dataclass
class Journey:
    """One patient's path through an RCP; ``traits`` keep the tumour from one step to the next."""

    kind: Kind
    patient: Patient
    rng: random.Random
    traits: dict = field(default_factory=dict)


Step = Callable[[Journey, date], tuple[dict, dict]]  # (case form values, decision values)


def _trial(j: Journey, chance: float, name: str, identifier: str) -> dict:
    if j.rng.random() >= chance:
        return {}
    return {"trial_proposed": "on", "trial_name": name, "trial_identifier": identifier}


def _breast_traits(j: Journey, day: date, profile: str, weeks_before=(2, 6)) -> dict:
    rng = j.rng
    markers = {
        "luminal": {"er": str(rng.choice((80, 90, 95, 100))), "pr": str(rng.choice((20, 50, 70)))},
        "triple_negative": {"er": "0", "pr": "0", "her2": "0"},
        "her2": {"er": str(rng.choice((0, 10, 60))), "pr": "0", "her2": "3+"},
    }[profile]
    markers.setdefault("her2", rng.choice(("0", "1+")))
    j.traits = {
        "diagnosed": day - timedelta(days=7 * rng.randint(*weeks_before) + rng.randint(0, 6)),
        "quadrant": rng.choice(("C50.4", "C50.4", "C50.2", "C50.5", "C50.8")),
        "side": rng.choice((RIGHT, LEFT)),
        "morphology": rng.choice(("8500/3", "8500/3", "8500/3", "8520/3")),
        "markers": markers,
        "size": rng.randint(9, 34),
    }
    return j.traits


def _side(j: Journey) -> str:
    return "droit" if j.traits["side"] == RIGHT else "gauche"


def _breast_tumour(j: Journey, tnm: dict, **markers) -> dict:
    t = j.traits
    return {
        "diagnosis_date": day_text(t["diagnosed"]),
        "topography_code": t["quadrant"],
        "morphology_code": t["morphology"],
        "laterality_code": t["side"],
        "tnm_edition": "UICC8",
        "staging_rows": [],
        **tnm,
        **{f"bm_breast_{k}": v for k, v in {**t["markers"], **markers}.items()},
    }


def _breast_case(j: Journey, **values) -> dict:
    return {
        "motive_treatment": True,
        "organ_code": BREAST,
        "phase_code": "MED-268",
        "performance_status": "0",
        "pathologist_name": "Dr Hélène Rousseau",
        **values,
    }


def _done(code: str, day: date, comment: str) -> dict:
    return {
        "type_code": code,
        "status": "done",
        "treatment_date": day_text(day),
        "comment": comment,
    }


def breast_preop(j: Journey, day: date):
    t = _breast_traits(j, day, "luminal")
    t["clinical"] = {
        "clinical_t": "T1c" if t["size"] <= 20 else "T2",
        "clinical_n": "N0",
        "clinical_m": "M0",
    }
    case = _breast_case(
        j,
        discovery_screening="yes",
        pathology_conclusion="Microbiopsie : carcinome infiltrant de grade SBR 2, récepteurs "
        "hormonaux positifs.",
        pathology_date=day_text(t["diagnosed"]),
        synthesis=f"Lésion ACR5 de {t['size']} mm du sein {_side(j)} découverte au dépistage "
        "organisé, sans adénopathie axillaire suspecte à l'échographie.",
        question="Chirurgie première ? Geste axillaire ?",
        tumour_rows=[_breast_tumour(j, t["clinical"], ki67="15", sbr="2")],
    )
    decision = {
        "outcome": "registered" if j.rng.random() < 0.5 else "discussed",
        "proposal_code": SURGERY,
        "proposal_details": f"Tumorectomie {_side(j)}e et biopsie du ganglion sentinelle.",
        "alt_code_1": HORMONOTHERAPY,
        "alt_details_1": "Hormonothérapie néoadjuvante si la chirurgie est différée.",
        **BREAST_GUIDELINE,
    }
    return case, decision


def breast_postop(j: Journey, day: date):
    t = j.traits
    operated = day - timedelta(days=j.rng.randint(18, 30))
    case = _breast_case(
        j,
        pathology_conclusion=f"Tumorectomie : carcinome infiltrant de {t['size']} mm, ganglion "
        "sentinelle indemne, marges saines.",
        pathology_date=day_text(operated + timedelta(days=8)),
        synthesis="Tumorectomie et ganglion sentinelle réalisés comme décidé en RCP ; suites "
        "simples.",
        question="Traitement adjuvant ?",
        tumour_rows=[
            _breast_tumour(
                j,
                {**t["clinical"], "pathological_t": "p" + t["clinical"]["clinical_t"]}
                | {"pathological_n": "pN0"},
                ki67="15",
                sbr="2",
            )
        ],
        treatment_rows=[_done(SURGERY, operated, "Tumorectomie et ganglion sentinelle.")],
    )
    decision = {
        "outcome": "registered" if j.rng.random() < 0.5 else "discussed",
        "proposal_code": RADIOTHERAPY,
        "proposal_details": "Radiothérapie du sein puis hormonothérapie adjuvante.",
        "alt_code_1": HORMONOTHERAPY,
        "alt_details_1": "Hormonothérapie adjuvante par inhibiteur de l'aromatase, 5 ans.",
        **BREAST_GUIDELINE,
    }
    return case, decision


def breast_operated_first(j: Journey, day: date):
    """Operated before any RCP (in another establishment): HAS level 2 is not met."""
    _breast_traits(j, day, "luminal", weeks_before=(7, 10))
    operated = day - timedelta(days=j.rng.randint(20, 35))
    case = _breast_case(
        j,
        discovery_screening="no",
        pathology_conclusion="Mastectomie : carcinome infiltrant de grade SBR 3, Ki-67 à 35 %, "
        "2 ganglions envahis sur 12.",
        pathology_date=day_text(operated + timedelta(days=9)),
        synthesis="Mastectomie et curage axillaire réalisés d'emblée dans un autre établissement, "
        "sans avis de RCP préalable.",
        question="Chimiothérapie adjuvante avant la radiothérapie ?",
        tumour_rows=[
            _breast_tumour(
                j,
                {"pathological_t": "pT2", "pathological_n": "pN1a", "clinical_m": "M0"},
                ki67="35",
                sbr="3",
            )
        ],
        treatment_rows=[_done(SURGERY, operated, "Mastectomie et curage axillaire.")],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie adjuvante (anthracyclines puis taxanes), puis "
        "radiothérapie de la paroi et des aires ganglionnaires.",
        "alt_code_1": RADIOTHERAPY,
        "alt_details_1": "Radiothérapie seule si la chimiothérapie est refusée.",
        **BREAST_GUIDELINE,
        **_trial(j, 0.2, "ADJUVANT-SEIN (essai fictif de démonstration)", "DEMO-2025-007"),
    }
    return case, decision


def breast_triple_negative(j: Journey, day: date):
    t = _breast_traits(j, day, "triple_negative")
    t.update(
        clinical={"clinical_t": "T2", "clinical_n": "N1", "clinical_m": "M0"},
        ki67="70",
        continued="l'immunothérapie",
    )
    case = _breast_case(
        j,
        discovery_screening="no",
        pathology_conclusion="Microbiopsie : carcinome infiltrant triple négatif, grade SBR 3.",
        pathology_date=day_text(t["diagnosed"]),
        synthesis=f"Nodule palpable de {t['size'] + 10} mm du sein {_side(j)}, adénopathie "
        "axillaire homolatérale cytologiquement envahie.",
        question="Chimiothérapie néoadjuvante ? Inclusion dans un essai ?",
        tumour_rows=[_breast_tumour(j, t["clinical"], ki67=t["ki67"], sbr="3")],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie néoadjuvante associée à l'immunothérapie, puis "
        "chirurgie.",
        "alt_code_1": IMMUNOTHERAPY,
        "alt_details_1": "Pembrolizumab néoadjuvant puis adjuvant.",
        "exams_requested": "Consultation d'oncogénétique.",
        **BREAST_GUIDELINE,
        **_trial(j, 0.5, "NEO-TN (essai fictif de démonstration)", "DEMO-2025-014"),
    }
    return case, decision


def breast_after_neoadjuvant(j: Journey, day: date):
    """After the chemotherapy decided at the first presentation (triple negative or HER2)."""
    t = j.traits
    operated = day - timedelta(days=j.rng.randint(15, 25))
    case = _breast_case(
        j,
        pathology_conclusion="Pièce opératoire après chimiothérapie : réponse histologique "
        "complète, ganglions indemnes.",
        pathology_date=day_text(operated + timedelta(days=8)),
        synthesis="Chimiothérapie néoadjuvante bien tolérée, puis tumorectomie et curage.",
        question="Traitement adjuvant après réponse complète ?",
        tumour_rows=[
            _breast_tumour(
                j,
                t["clinical"] | {"pathological_t": "pT0", "pathological_n": "pN0"},
                ki67=t["ki67"],
                sbr="3",
            )
        ],
        treatment_rows=[
            _done(CHEMOTHERAPY, operated - timedelta(days=40), "Chimiothérapie néoadjuvante."),
            _done(SURGERY, operated, "Tumorectomie et curage axillaire."),
        ],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": RADIOTHERAPY,
        "proposal_details": f"Radiothérapie du sein et des aires ganglionnaires ; poursuite de "
        f"{t['continued']}.",
        **BREAST_GUIDELINE,
    }
    return case, decision


def breast_her2(j: Journey, day: date):
    t = _breast_traits(j, day, "her2")
    t.update(
        clinical={"clinical_t": "T2", "clinical_n": "N0", "clinical_m": "M0"},
        ki67="40",
        continued="l'anticorps anti-HER2 pour un an",
    )
    case = _breast_case(
        j,
        discovery_screening="no",
        pathology_conclusion="Microbiopsie : carcinome infiltrant HER2 3+, grade SBR 3.",
        pathology_date=day_text(t["diagnosed"]),
        synthesis=f"Masse de {t['size'] + 8} mm du sein {_side(j)}, pas de localisation "
        "secondaire au scanner.",
        question="Traitement néoadjuvant ?",
        tumour_rows=[_breast_tumour(j, t["clinical"], ki67=t["ki67"], sbr="3")],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie néoadjuvante associée au trastuzumab et au "
        "pertuzumab, puis chirurgie.",
        "alt_code_1": TARGETED,
        "alt_details_1": "Double blocage HER2 poursuivi un an.",
        **BREAST_GUIDELINE,
    }
    return case, decision


def breast_elderly(j: Journey, day: date):
    """A documented deviation from the guideline."""
    t = _breast_traits(j, day, "luminal")
    g8 = j.rng.randint(8, 13)
    case = _breast_case(
        j,
        performance_status="2",
        g8_score=str(g8),
        comorbidities="Insuffisance cardiaque, fibrillation atriale sous anticoagulant.",
        pathology_conclusion="Microbiopsie : carcinome infiltrant, récepteurs hormonaux positifs.",
        pathology_date=day_text(t["diagnosed"]),
        synthesis=f"Nodule de {t['size'] + 6} mm du sein {_side(j)} chez une patiente âgée "
        "et fragile ; évaluation oncogériatrique réalisée.",
        question="Chirurgie raisonnable, ou hormonothérapie exclusive ?",
        tumour_rows=[
            _breast_tumour(
                j, {"clinical_t": "T2", "clinical_n": "N0", "clinical_m": "M0"}, ki67="10", sbr="1"
            )
        ],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": HORMONOTHERAPY,
        "proposal_details": "Hormonothérapie exclusive par inhibiteur de l'aromatase.",
        **BREAST_GUIDELINE,
        "deviation_reason": f"Chirurgie non proposée malgré le référentiel : score G8 à {g8} "
        "et comorbidités cardiaques ; choix partagé avec la patiente.",
    }
    return case, decision


def _relapse_traits(j: Journey, day: date, years: tuple[int, int]) -> date:
    j.traits["diagnosed"] = day - timedelta(days=365 * j.rng.randint(*years))
    return day - timedelta(days=j.rng.randint(20, 45))


def breast_local_relapse(j: Journey, day: date):
    _breast_traits(j, day, "luminal")
    relapse = _relapse_traits(j, day, (5, 9))
    first = j.traits["diagnosed"]
    case = _breast_case(
        j,
        phase_code="MED-244",
        relapse_date=day_text(relapse),
        progression_local=True,
        synthesis=f"Récidive locale isolée du sein {_side(j)}, {day.year - first.year} ans après "
        "tumorectomie et radiothérapie ; bilan d'extension négatif.",
        question="Mastectomie de rattrapage ?",
        tumour_rows=[
            _breast_tumour(
                j, {"clinical_t": "T1c", "clinical_n": "N0", "clinical_m": "M0"}, ki67="20", sbr="2"
            )
        ],
        treatment_rows=[
            _done(SURGERY, first + timedelta(days=30), "Tumorectomie et ganglion sentinelle."),
            _done(RADIOTHERAPY, first + timedelta(days=80), "Radiothérapie du sein."),
        ],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": SURGERY,
        "proposal_details": "Mastectomie totale de rattrapage, reconstruction différée.",
        **BREAST_GUIDELINE,
    }
    return case, decision


def _metastatic_case(j: Journey, synthesis: str, question: str) -> dict:
    return _breast_case(
        j,
        phase_code="MED-244",
        relapse_date=day_text(j.traits["relapse"]),
        progression_distant=True,
        performance_status="1",
        synthesis=synthesis,
        question=question,
        tumour_rows=[
            _breast_tumour(
                j, {"clinical_t": "T2", "clinical_n": "N1", "clinical_m": "M1"}, ki67="25", sbr="2"
            )
        ],
    )


def breast_metastatic(j: Journey, day: date):
    _breast_traits(j, day, "luminal")
    j.traits["relapse"] = _relapse_traits(j, day, (3, 7))
    case = _metastatic_case(
        j,
        "Rechute osseuse et hépatique d'un cancer du sein RH positifs traité il y a plusieurs "
        "années.",
        "Traitement de première ligne métastatique ?",
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": HORMONOTHERAPY,
        "proposal_details": "Inhibiteur de l'aromatase associé à un inhibiteur de CDK4/6.",
        "alt_code_1": CHEMOTHERAPY,
        "alt_details_1": "Chimiothérapie par paclitaxel en cas de crise viscérale.",
        **BREAST_GUIDELINE,
        **_trial(j, 0.3, "META-SEIN (essai fictif de démonstration)", "DEMO-2024-031"),
    }
    return case, decision


def breast_progression(j: Journey, day: date):
    case = _metastatic_case(
        j,
        "Progression hépatique sous hormonothérapie et inhibiteur de CDK4/6.",
        "Traitement de deuxième ligne ?",
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie par capécitabine.",
        **BREAST_GUIDELINE,
        **_trial(j, 0.4, "META-SEIN (essai fictif de démonstration)", "DEMO-2024-031"),
    }
    return case, decision


def _gynaeco_case(j: Journey, organ: str, topography: str, morphology: str, figo: str, **values):
    diagnosed = j.traits["diagnosed"]
    return {
        "motive_treatment": True,
        "motive_recourse": True,
        "organ_code": organ,
        "phase_code": "MED-268",
        "performance_status": "1",
        **values,
        "tumour_rows": [
            {
                "diagnosis_date": day_text(diagnosed),
                "topography_code": topography,
                "morphology_code": morphology,
                "staging_rows": [{"system": "FIGO", "system_version": "2018", "value": figo}],
            }
        ],
    }


def _diagnosed(j: Journey, day: date, weeks=(3, 7)) -> date:
    j.traits["diagnosed"] = day - timedelta(days=7 * j.rng.randint(*weeks))
    return j.traits["diagnosed"]


def _ovary_case(j: Journey, **values) -> dict:
    return _gynaeco_case(j, OVARY, "C56", "8441/3", "IIIC", **values)


def ovary_advanced(j: Journey, day: date):
    diagnosed = _diagnosed(j, day)
    case = _ovary_case(
        j,
        pathology_conclusion="Biopsies péritonéales sous cœlioscopie : carcinome séreux de haut "
        "grade.",
        pathology_date=day_text(diagnosed),
        exam_results="CA 125 à 850 UI/mL ; scanner : carcinose péritonéale, ascite modérée.",
        synthesis="Carcinose péritonéale d'origine ovarienne, score de Fagotti élevé à la "
        "cœlioscopie.",
        question="Chirurgie de cytoréduction première ou chimiothérapie néoadjuvante ?",
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie néoadjuvante (carboplatine-paclitaxel, 3 cycles) puis "
        "chirurgie d'intervalle.",
        "alt_code_1": SURGERY,
        "alt_details_1": "Chirurgie de cytoréduction première si la carcinose régresse.",
        "exams_requested": "Consultation d'oncogénétique et recherche d'une mutation BRCA.",
        **GYNAECO_GUIDELINE,
        **_trial(j, 0.35, "OVA-PRIME (essai fictif de démonstration)", "DEMO-2025-022"),
    }
    return case, decision


def ovary_interval(j: Journey, day: date):
    operated = day - timedelta(days=j.rng.randint(15, 25))
    case = _ovary_case(
        j,
        pathology_conclusion="Pièce de cytoréduction : carcinome séreux de haut grade, score de "
        "réponse chimiothérapique 2.",
        pathology_date=day_text(operated + timedelta(days=9)),
        exam_results="CA 125 normalisé après 3 cycles ; mutation BRCA1 constitutionnelle.",
        synthesis="Chirurgie d'intervalle complète (résidu nul) après 3 cycles de chimiothérapie.",
        question="Traitement adjuvant et maintenance ?",
        treatment_rows=[
            _done(CHEMOTHERAPY, operated - timedelta(days=70), "Carboplatine-paclitaxel."),
            _done(SURGERY, operated, "Cytoréduction complète d'intervalle."),
        ],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Trois cycles adjuvants de carboplatine-paclitaxel.",
        "alt_code_1": TARGETED,
        "alt_details_1": "Maintenance par inhibiteur de PARP (mutation BRCA).",
        **GYNAECO_GUIDELINE,
    }
    return case, decision


def endometrium_operated(j: Journey, day: date):
    """Operated before the RCP, as often for an endometrial cancer: HAS level 2 not met."""
    _diagnosed(j, day, (6, 9))
    operated = day - timedelta(days=j.rng.randint(18, 30))
    case = _gynaeco_case(
        j,
        UTERUS,
        "C54.1",
        "8380/3",
        "IB",
        pathology_conclusion="Hystérectomie : adénocarcinome endométrioïde de grade 2, "
        "infiltration myométriale supérieure à 50 %.",
        pathology_date=day_text(operated + timedelta(days=9)),
        synthesis="Métrorragies post-ménopausiques ; hystérectomie totale avec annexectomie "
        "bilatérale et ganglion sentinelle.",
        question="Traitement adjuvant ?",
        treatment_rows=[_done(SURGERY, operated, "Hystérectomie totale, ganglion sentinelle.")],
    )
    decision = {
        "outcome": "registered" if j.rng.random() < 0.5 else "discussed",
        "proposal_code": BRACHYTHERAPY,
        "proposal_details": "Curiethérapie vaginale adjuvante.",
        **GYNAECO_GUIDELINE,
    }
    return case, decision


def cervix_locally_advanced(j: Journey, day: date):
    diagnosed = _diagnosed(j, day)
    case = _gynaeco_case(
        j,
        CERVIX,
        "C53",
        "8070/3",
        "IIB",
        performance_status="0",
        pathology_conclusion="Biopsie du col : carcinome épidermoïde infiltrant, HPV 16 positif.",
        pathology_date=day_text(diagnosed),
        exam_results="IRM pelvienne : envahissement paramétrial gauche ; TEP : pas "
        "d'adénopathie lombo-aortique.",
        synthesis="Lésion cervicale de 45 mm découverte sur des métrorragies.",
        question="Radiochimiothérapie concomitante ?",
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": RADIOTHERAPY,
        "proposal_details": "Radiochimiothérapie concomitante (cisplatine hebdomadaire) puis "
        "curiethérapie utéro-vaginale.",
        "alt_code_1": BRACHYTHERAPY,
        "alt_details_1": "Curiethérapie utéro-vaginale de complément.",
        **GYNAECO_GUIDELINE,
    }
    return case, decision


def cervix_response(j: Journey, day: date):
    """The end-of-treatment assessment: surveillance alone, no treatment proposed."""
    treated = day - timedelta(days=j.rng.randint(30, 45))
    case = _gynaeco_case(
        j,
        CERVIX,
        "C53",
        "8070/3",
        "IIB",
        performance_status="0",
        exam_results="IRM pelvienne trois mois après la fin du traitement : réponse complète.",
        synthesis="Radiochimiothérapie concomitante puis curiethérapie, terminées et bien "
        "tolérées.",
        question="Surveillance seule ?",
        treatment_rows=[
            _done(RADIOTHERAPY, treated - timedelta(days=50), "Radiochimiothérapie concomitante."),
            _done(BRACHYTHERAPY, treated, "Curiethérapie utéro-vaginale."),
        ],
    )
    decision = {
        "outcome": "registered" if j.rng.random() < 0.5 else "discussed",
        "active_surveillance": "on",
        "exams_requested": "Examen clinique et IRM pelvienne tous les 4 mois pendant 2 ans.",
        **GYNAECO_GUIDELINE,
    }
    return case, decision


def ovary_relapse(j: Journey, day: date):
    relapse = _relapse_traits(j, day, (2, 5))
    first = j.traits["diagnosed"]
    case = _gynaeco_case(
        j,
        OVARY,
        "C56",
        "8441/3",
        "IIIC",
        phase_code="MED-244",
        relapse_date=day_text(relapse),
        progression_regional=True,
        exam_results="CA 125 en ascension ; scanner : nodules péritonéaux.",
        synthesis="Rechute péritonéale platine-sensible, 20 mois après la fin du traitement.",
        question="Chimiothérapie de rechute ? Essai ?",
        treatment_rows=[
            _done(SURGERY, first + timedelta(days=100), "Cytoréduction d'intervalle."),
            _done(CHEMOTHERAPY, first + timedelta(days=160), "Carboplatine-paclitaxel."),
        ],
    )
    decision = {
        "outcome": "discussed",
        "proposal_code": CHEMOTHERAPY,
        "proposal_details": "Chimiothérapie à base de sels de platine (rechute platine-sensible).",
        "alt_code_1": TARGETED,
        "alt_details_1": "Maintenance par inhibiteur de PARP en cas de réponse.",
        **GYNAECO_GUIDELINE,
        **_trial(j, 0.4, "OVA-RELAPSE (essai fictif de démonstration)", "DEMO-2024-019"),
    }
    return case, decision


@dataclass(frozen=True)
class Kind:
    """A kind of journey: who it concerns (age range) and its steps (gap in held sessions)."""

    ages: tuple[int, int]
    steps: tuple[tuple[int, Step], ...]
    weight: float = 1.0


BREAST_KINDS = (
    Kind((40, 80), ((0, breast_preop), (3, breast_postop)), 4),
    Kind((45, 85), ((0, breast_operated_first),), 2),
    Kind((28, 60), ((0, breast_triple_negative), (9, breast_after_neoadjuvant)), 1),
    Kind((30, 75), ((0, breast_her2), (9, breast_after_neoadjuvant)), 1),
    Kind((76, 95), ((0, breast_elderly),), 2),
    Kind((45, 88), ((0, breast_local_relapse),), 1),
    Kind((45, 88), ((0, breast_metastatic), (8, breast_progression)), 1.5),
)
GYNAECO_KINDS = (
    Kind((45, 85), ((0, ovary_advanced), (3, ovary_interval)), 2),
    Kind((55, 90), ((0, endometrium_operated),), 2),
    Kind((28, 60), ((0, cervix_locally_advanced), (5, cervix_response)), 1),
    Kind((50, 85), ((0, ovary_relapse),), 1),
)


# --- the plan of each RCP ---------------------------------------------------------------------

# What may happen at a session, each to a new case of its own: a case submitted after the
# deadline (LATE), listed incomplete with an override (OVERRIDE), postponed while the agenda is
# built (POSTPONE; POSTPONE_TWICE: once more at the next session's close) or when the session
# closes (POSTPONE_AT_CLOSE); a case refused with a reason (REFUSE); the surgeon missing
# (NO_QUORUM: one case postponed, the others decided « quorum non atteint »); the first fiche
# amended days later (AMEND).
LATE, REFUSE, OVERRIDE, NO_QUORUM = "late", "refuse", "override", "no_quorum"
POSTPONE, POSTPONE_TWICE, POSTPONE_AT_CLOSE, AMEND = "postpone", "twice", "close_postpone", "amend"


@dataclass(frozen=True)
class RcpHistory:
    """One RCP's year: its sessions (index 0 the oldest), those never held, what happens at
    which, and its cases' content."""

    suffix: str
    weeks: range  # weeks before the RCP's next session, oldest first
    per_session: tuple[int, ...]  # cases per held session, follow-ups included (drawn)
    kinds: tuple[Kind, ...]
    requesters: tuple[tuple[str, str], ...]  # (first name, last name)
    validator: str  # username of the physician who signs
    unheld: frozenset[int]
    events: dict[int, tuple[str, ...]]
    incomplete: tuple[str, str]  # (form value left out, override reason)
    refusals: tuple[tuple[str, bool], ...]  # (reason, submitted again later)
    amendment: tuple[str, str]  # (comment added, reason)


HISTORIES = (
    RcpHistory(
        "SEIN",
        range(51, 4, -2),
        (1, 2, 2, 3),
        BREAST_KINDS,
        (
            ("Claire", "Martin"),
            ("Julien", "Nguyen"),
            ("Olivier", "Marchand"),
            ("Aïssatou", "N'Diaye"),
            ("Timothée", "Lambert"),
            ("Karim", "Benali"),
            ("François", "Lemaire"),
        ),
        "dr.martin",
        frozenset({12}),
        {
            1: (LATE,),
            2: (REFUSE,),
            3: (POSTPONE,),
            4: (OVERRIDE,),
            5: (NO_QUORUM,),
            6: (POSTPONE_TWICE,),
            8: (AMEND, LATE),
            9: (OVERRIDE, POSTPONE_AT_CLOSE),
            10: (REFUSE,),
            13: (LATE,),
            14: (OVERRIDE,),
            15: (POSTPONE, LATE),
            16: (NO_QUORUM,),
            17: (REFUSE, LATE),
            18: (AMEND,),
            19: (OVERRIDE,),
            20: (POSTPONE_AT_CLOSE,),
            21: (LATE,),
        },
        (
            "bm_breast_her2",
            "Statut HER2 en cours de contrôle (FISH) : dossier inscrit pour ne pas retarder la "
            "discussion.",
        ),
        (
            (
                "Dossier incomplet à la date limite : statut HER2 manquant. À soumettre de "
                "nouveau dès réception du résultat.",
                True,
            ),
            (
                "Question posée imprécise et bilan d'extension absent : à reformuler avec le "
                "médecin demandeur.",
                True,
            ),
        ),
        (
            "IRM mammaire bilatérale demandée en séance avant la chirurgie.",
            "Ajout de l'IRM mammaire demandée en séance, omise dans la version 1.",
        ),
    ),
    RcpHistory(
        "GYNECO",
        range(51, 2, -4),
        (1, 2, 2),
        GYNAECO_KINDS,
        (
            ("Julien", "Nguyen"),
            ("Inès", "Boucher"),
            ("Aïssatou", "N'Diaye"),
            ("Timothée", "Lambert"),
            ("Karim", "Benali"),
            ("Noémie", "Girard"),
        ),
        "dr.nguyen",
        frozenset({7}),
        {
            1: (LATE,),
            2: (REFUSE,),
            3: (OVERRIDE, AMEND),
            4: (NO_QUORUM,),
            5: (POSTPONE_TWICE,),
            8: (REFUSE, LATE),
            9: (OVERRIDE,),
            10: (POSTPONE_AT_CLOSE,),
        },
        (
            "performance_status",
            "Indice de performance OMS non renseigné : à préciser en séance par le médecin "
            "demandeur.",
        ),
        (
            (
                "Situation standard relevant de la RCP de l'établissement demandeur, sans "
                "question de recours.",
                False,
            ),
            (
                "Dossier incomplet : indice de performance et compte rendu opératoire absents. "
                "À soumettre de nouveau complet.",
                True,
            ),
        ),
        (
            "Consultation d'oncogénétique décidée en séance.",
            "Ajout de la consultation d'oncogénétique décidée en séance, omise dans la version 1.",
        ),
    ),
)
