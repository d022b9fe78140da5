"""Clinical content of the benchmark's cases: tumour templates and texts, by RCP.

Each tumour template is typed like a form row; its stage group is computed once by the
staging module (same rule as cases/validation.py: pathological when pT and pN are known,
otherwise clinical), so that stored stage groups are consistent with the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rcp_app.staging import SITES, biomarkers, stage

EDITION = "UICC8"
LEFT, RIGHT = "7771000", "24028007"


@dataclass(frozen=True)
class TumourTemplate:
    topography: str
    morphology: str
    tnm: dict[str, str]
    markers: dict[str, str] = field(default_factory=dict)
    laterality: str | None = None

    def stage(self) -> tuple[str | None, str | None, str | None]:
        """(stage group, edition, basis) as the application would store them."""
        site = biomarkers.site_for_topography(self.topography)
        if site not in SITES:
            return None, None, None
        factors = biomarkers.staging_factors(site, self.markers)
        t = self.tnm
        p_m = t.get("pathological_m") or t.get("clinical_m")
        if t.get("pathological_t") and t.get("pathological_n") and p_m:
            result = stage(site, EDITION, t["pathological_t"], t["pathological_n"], p_m, **factors)
            if result.group:
                return result.group, EDITION, "pathological"
        if t.get("clinical_t") and t.get("clinical_n") and t.get("clinical_m"):
            result = stage(
                site, EDITION, t["clinical_t"], t["clinical_n"], t["clinical_m"], **factors
            )
            if result.group:
                return result.group, EDITION, "clinical"
        return None, None, None


def _breast(topo, t, n, er, her2, side):
    return TumourTemplate(
        topo,
        "8500/3",
        {
            "clinical_t": "c" + t,
            "clinical_n": "cN0",
            "clinical_m": "cM0",
            "pathological_t": "p" + t,
            "pathological_n": n,
        },
        {
            "breast.er": er,
            "breast.pr": "40",
            "breast.her2": her2,
            "breast.ki67": "20",
            "breast.sbr": "2",
        },
        side,
    )


# RCP suffix (rcp_app/demo/directory_data.py, plus the benchmark's ORL and DERMATO) -> templates
TUMOURS: dict[str, list[TumourTemplate]] = {
    "SEIN": [
        _breast("C50.4", "T2", "pN1a", "90", "1+", LEFT),
        _breast("C50.2", "T1c", "pN0", "95", "0", RIGHT),
        _breast("C50.5", "T1b", "pN0(sn)", "80", "2+ ISH−", LEFT),
        _breast("C50.8", "T3", "pN2a", "0", "3+", RIGHT),
    ],
    "GYNECO": [
        TumourTemplate(
            "C56", "8441/3", {"clinical_t": "cT3", "clinical_n": "cN1", "clinical_m": "cM0"}
        ),
        TumourTemplate("C54.1", "8380/3", {"pathological_t": "pT1a", "pathological_n": "pN0"}),
        TumourTemplate(
            "C53", "8070/3", {"clinical_t": "cT2", "clinical_n": "cN0", "clinical_m": "cM0"}
        ),
    ],
    "DIGESTIF": [
        TumourTemplate(
            "C18.7",
            "8140/3",
            {"pathological_t": "pT3", "pathological_n": "pN1b", "clinical_m": "cM0"},
            {
                "colorectal.msi": "MSS / pMMR",
                "colorectal.ras": "muté",
                "colorectal.braf": "sauvage",
            },
        ),
        TumourTemplate(
            "C20",
            "8140/3",
            {"clinical_t": "cT3", "clinical_n": "cN1", "clinical_m": "cM0"},
            {"colorectal.msi": "MSS / pMMR", "colorectal.ras": "sauvage"},
        ),
        TumourTemplate(
            "C18.2",
            "8480/3",
            {"pathological_t": "pT4a", "pathological_n": "pN0", "clinical_m": "cM0"},
            {"colorectal.msi": "MSI / dMMR", "colorectal.braf": "V600E"},
        ),
        TumourTemplate(
            "C25", "8140/3", {"clinical_t": "cT2", "clinical_n": "cN0", "clinical_m": "cM0"}
        ),
    ],
    "THORAX": [
        TumourTemplate(
            "C34.1",
            "8140/3",
            {"clinical_t": "cT2a", "clinical_n": "cN2", "clinical_m": "cM0"},
            {
                "lung.egfr": "négatif",
                "lung.alk": "négatif",
                "lung.ros1": "non fait",
                "lung.pdl1": "60",
            },
            RIGHT,
        ),
        TumourTemplate(
            "C34.3",
            "8070/3",
            {"clinical_t": "cT3", "clinical_n": "cN0", "clinical_m": "cM1b"},
            {"lung.egfr": "négatif", "lung.pdl1": "5"},
            LEFT,
        ),
        TumourTemplate(
            "C34.1",
            "8140/3",
            {"pathological_t": "pT1b", "pathological_n": "pN0", "clinical_m": "cM0"},
            {"lung.egfr": "positif", "lung.alk": "négatif"},
            LEFT,
        ),
    ],
    "URO": [
        TumourTemplate(
            "C61",
            "8140/3",
            {"clinical_t": "cT2a", "clinical_n": "cN0", "clinical_m": "cM0"},
            {
                "prostate.psa": "8.5",
                "prostate.gleason_primary": "3",
                "prostate.gleason_secondary": "4",
                "prostate.isup": "2",
            },
        ),
        TumourTemplate(
            "C61",
            "8140/3",
            {"clinical_t": "cT3a", "clinical_n": "cN0", "clinical_m": "cM0"},
            {
                "prostate.psa": "24",
                "prostate.gleason_primary": "4",
                "prostate.gleason_secondary": "4",
                "prostate.isup": "4",
            },
        ),
        TumourTemplate("C67", "8120/3", {"pathological_t": "pT2", "pathological_n": "pN0"}),
        TumourTemplate(
            "C64",
            "8312/3",
            {"clinical_t": "cT1b", "clinical_n": "cN0", "clinical_m": "cM0"},
            laterality=RIGHT,
        ),
    ],
    "ORL": [
        TumourTemplate(
            "C32", "8070/3", {"clinical_t": "cT2", "clinical_n": "cN1", "clinical_m": "cM0"}
        ),
        TumourTemplate(
            "C10", "8070/3", {"clinical_t": "cT3", "clinical_n": "cN2b", "clinical_m": "cM0"}
        ),
    ],
    "DERMATO": [
        TumourTemplate("C43", "8720/3", {"pathological_t": "pT2a", "pathological_n": "pN0"}),
        TumourTemplate(
            "C44", "8090/3", {"clinical_t": "cT1", "clinical_n": "cN0", "clinical_m": "cM0"}
        ),
    ],
}
# Oncogeriatrics sees the common cancers of older patients.
TUMOURS["ONCOGERIATRIE"] = [TUMOURS["SEIN"][0], TUMOURS["DIGESTIF"][0], TUMOURS["URO"][1]]

# RCP suffix -> organ code (JDV_RCP_Organe_CISIS); None for the transversal RCP.
ORGANS = {
    "SEIN": "76752008",
    "GYNECO": "15497006",
    "DIGESTIF": "MED-251",
    "THORAX": "MED-255",
    "URO": "41216001",
    "ORL": "4596009",
    "DERMATO": "39937001",
    "ONCOGERIATRIE": None,
}

SYNTHESES = [
    "Découverte au dépistage organisé ; bilan d'extension négatif.",
    "Patient(e) adressé(e) par son médecin traitant pour altération de l'état général ; "
    "scanner thoraco-abdomino-pelvien et biopsie réalisés.",
    "Récidive locale trois ans après un traitement initial conservateur.",
    "Exérèse complète, marges saines ; suites opératoires simples.",
    "Tumeur localement avancée ; réponse partielle après traitement néoadjuvant.",
]
QUESTIONS = [
    "Indication d'un traitement adjuvant ?",
    "Stratégie thérapeutique : chirurgie première ou traitement néoadjuvant ?",
    "Place d'une radiothérapie complémentaire ?",
    "Faut-il proposer une inclusion dans un essai thérapeutique ?",
    "Conduite à tenir diagnostique : nouvelle biopsie ou surveillance ?",
]
WITHDRAWAL_REASONS = [
    "Doublon d'un dossier déjà inscrit.",
    "Patient décédé avant la réunion.",
    "Présenté dans une autre RCP (recours).",
    "Bilan incomplet : sera réinscrit à une séance ultérieure.",
]
