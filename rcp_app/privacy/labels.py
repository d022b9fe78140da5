"""Audit actions in French, for the data-protection officer and the patient who asks.

A code without a label is shown as is: the list names what a patient most often reads.
"""

from __future__ import annotations

ACTION_LABELS = {
    "patient.view": "Consultation de l'identité du patient",
    "patient.search": "Recherche de patients (le patient figurait dans les résultats)",
    "patient.create": "Création du patient",
    "patient.update": "Modification de l'identité",
    "case.view": "Consultation d'un dossier RCP",
    "case.list": "Liste des dossiers RCP (le patient y figurait)",
    "case.create": "Création d'un dossier RCP",
    "case.update": "Modification d'un dossier RCP",
    "case.submit": "Soumission d'un dossier RCP",
    "case.withdraw": "Retrait d'un dossier RCP",
    "attachment.upload": "Ajout d'une pièce jointe",
    "attachment.download": "Téléchargement d'une pièce jointe",
    "attachment.withdraw": "Retrait d'une pièce jointe",
    "agenda.assign": "Inscription à l'ordre du jour d'une séance",
    "session.agenda_view": "Consultation de l'ordre du jour d'une séance",
    "session.agenda_pdf": "Ordre du jour d'une séance (PDF)",
    "session.meeting_view": "Consultation en séance RCP",
    "session.attendance_view": "Page des présences d'une séance",
    "session.fiches_view": "Fiches d'une séance",
    "session.close_view": "Clôture d'une séance",
    "decision.update": "Saisie de la décision RCP",
    "decision.ready": "Décision RCP prête à valider",
    "fiche.view": "Consultation d'une fiche RCP",
    "fiche.preview": "Aperçu d'une fiche RCP",
    "fiche.download": "Téléchargement d'une fiche RCP",
    "fiche.validate": "Validation et signature d'une fiche RCP",
    "fiche.amend": "Avenant à une fiche RCP",
    "fiche.export": "Export d'une fiche RCP",
    "delivery.enqueue": "Envoi d'une fiche RCP préparé",
    "delivery.dashboard_view": "Suivi de la diffusion",
    "delivery.inbox_view": "Boîte du médecin traitant",
    "delivery.mailbox_read": "Lecture d'un message envoyé",
    "access.denied": "Accès refusé (hors équipe de soins)",
    "access.exceptional_open": "Accès exceptionnel (bris de glace) ouvert",
    "access.exceptional_review": "Accès exceptionnel revu",
    "access.exceptional_form": "Page d'accès exceptionnel (identité)",
    "access.exceptional_list": "Liste des accès exceptionnels",
    "privacy.audit_log": "Journal d'audit (protection des données)",
    "privacy.patient_accesses": "Liste des accès au dossier (protection des données)",
    "privacy.patient_accesses_export": "Export des accès au dossier (protection des données)",
    "patients.merged": "Fusion de deux dossiers patient (doublon signalé par le DPI)",
    "api.call": "Appel d'un système de l'établissement (API)",
}


def action_label(code: str | None) -> str:
    return ACTION_LABELS.get(code or "", code or "")
