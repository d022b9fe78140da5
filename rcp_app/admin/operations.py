"""Account administration: each operation validates, mutates, audits and flushes.

The caller commits. Audit details name the changed fields and their values, never a password
hash nor a TOTP secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import flag_modified

from ..access.models import CoordinatorScope
from ..auth import operations as auth_ops
from ..auth.models import ROLE_LABELS, User
from ..auth.passwords import hash_password, password_problem
from ..config import ROLES
from ..core import audit
from ..core.conflict import check_version
from ..core.errors import DomainError
from ..core.timeutil import utcnow
from ..directory.models import Establishment, Professional, Rcp
from ..extensions import db

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Roles whose accounts act as a health professional of the directory.
ROLES_NEEDING_PROFESSIONAL = ("physician", "gp")
# Fields update_user may change, in the order they are reported.
EDITABLE_FIELDS = ("display_name", "email", "role", "professional_id", "active")


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise DomainError(f"Rôle inconnu : « {role} ».", field="role")


def _check_email(email: str, user_id: int | None) -> None:
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise DomainError("Adresse électronique invalide.", field="email")
    clash = db.session.scalar(
        select(User.id).where(func.lower(User.email) == email, User.id != (user_id or 0))
    )
    if clash is not None:
        raise DomainError(
            "Cette adresse électronique est déjà utilisée par un autre compte.", field="email"
        )


def _check_display_name(display_name: str) -> None:
    if not display_name:
        raise DomainError("Le nom affiché est obligatoire.", field="display_name")
    if len(display_name) > 160:
        raise DomainError(
            "Le nom affiché est trop long (160 caractères au maximum).", field="display_name"
        )


def _check_professional(
    role: str, professional_id: int | None, user_id: int | None, current_id: int | None
) -> None:
    """gp and physician accounts are linked to one professional; a professional to one account."""
    if professional_id is None:
        if role in ROLES_NEEDING_PROFESSIONAL:
            raise DomainError(
                f"Un compte « {ROLE_LABELS[role]} » doit être associé à un professionnel de "
                "santé de l'annuaire.",
                field="professional_id",
            )
        return
    professional = db.session.get(Professional, professional_id)
    if professional is None:
        raise DomainError("Ce professionnel de santé n'existe pas.", field="professional_id")
    if not professional.active and professional_id != current_id:
        raise DomainError(
            f"{professional.display_name} est inactif dans l'annuaire : impossible de lui "
            "associer un compte.",
            field="professional_id",
        )
    owner = db.session.scalar(
        select(User).where(User.professional_id == professional_id, User.id != (user_id or 0))
    )
    if owner is not None:
        raise DomainError(
            f"{professional.display_name} est déjà associé au compte « {owner.username} ».",
            field="professional_id",
        )


def _check_new_password(password: str, confirm: str, field: str = "password") -> None:
    problem = password_problem(password or "")
    if problem:
        raise DomainError(problem, field=field)
    if password != confirm:
        raise DomainError("Les deux mots de passe saisis sont différents.", field="confirm")


def create_user(
    username: str,
    email: str,
    display_name: str,
    role: str,
    professional_id: int | None,
    active: bool,
    password: str,
    confirm: str,
    rcp_ids: Iterable[int] = (),
    establishment_ids: Iterable[int] = (),
) -> User:
    username = (username or "").strip().lower()
    email = (email or "").strip().lower()
    display_name = _clean(display_name)
    if not USERNAME_RE.match(username):
        raise DomainError(
            "Identifiant invalide : lettres minuscules sans accent, chiffres, point, tiret ou "
            "souligné (2 à 80 caractères).",
            field="username",
        )
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(f"L'identifiant « {username} » est déjà pris.", field="username")
    _check_display_name(display_name)
    _check_email(email, None)
    _check_role(role)
    _check_professional(role, professional_id, None, None)
    _check_new_password(password, confirm)
    scopes = _checked_scopes(role, rcp_ids, establishment_ids, current=_NO_SCOPES)

    user = User(
        username=username,
        email=email,
        display_name=display_name,
        role=role,
        professional_id=professional_id,
        active=bool(active),
        password_hash=hash_password(password),
        created_at=utcnow(),
        session_token=auth_ops.new_session_token(),
        failed_logins=0,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        "user",
        user.id,
        details={
            "username": username,
            "email": email,
            "display_name": display_name,
            "role": role,
            "professional_id": professional_id,
            "active": bool(active),
        },
    )
    _replace_scopes(user, _NO_SCOPES, scopes)
    return user


def _active_admins_besides(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.role == "admin", User.active.is_(True), User.id != user.id
        )
    )


def update_user(
    user: User,
    data: dict,
    expected_version: int | None,
    by: User,
    scopes: tuple[Iterable[int], Iterable[int]] | None = None,
) -> dict:
    """Apply the editable fields of ``data`` and, when given, the coordinator's scopes
    (RCP ids, establishment ids); return {field: [old, new]} of what changed.

    A coordinator whose role changes loses their scopes: the scopes submitted with the role
    change are the former ones, shown by the form, and are ignored."""
    check_version(
        expected_version,
        user.version,
        "Ce compte a été modifié entre-temps par un autre utilisateur. Rechargez la page "
        "pour voir la version actuelle avant de recommencer.",
    )
    new = {
        "display_name": _clean(data.get("display_name", user.display_name)),
        "email": (data.get("email", user.email) or "").strip().lower(),
        "role": data.get("role", user.role),
        "professional_id": data.get("professional_id", user.professional_id) or None,
        "active": bool(data.get("active", user.active)),
    }
    _check_display_name(new["display_name"])
    _check_email(new["email"], user.id)
    _check_role(new["role"])
    _check_professional(new["role"], new["professional_id"], user.id, user.professional_id)
    current = coordinator_scopes(user)
    wanted = current
    if new["role"] != "coordinator" and user.role == "coordinator":
        wanted = _NO_SCOPES
    elif scopes is not None:
        wanted = _checked_scopes(new["role"], *scopes, current=current)

    losing_admin = (
        user.role == "admin" and user.active and (new["role"] != "admin" or not new["active"])
    )
    if losing_admin:
        if user.id == by.id:
            raise DomainError(
                "Vous ne pouvez pas retirer vos propres droits d'administrateur ni désactiver "
                "votre propre compte.",
                field="active" if not new["active"] else "role",
            )
        if _active_admins_besides(user) == 0:
            raise DomainError("Il doit rester au moins un administrateur actif.", field="role")

    changes = {
        name: [getattr(user, name), new[name]]
        for name in EDITABLE_FIELDS
        if getattr(user, name) != new[name]
    }
    if changes:
        for name, (_old, value) in changes.items():
            setattr(user, name, value)
        if "active" in changes and not user.active:
            # A deactivated account's open sessions end now.
            user.session_token = auth_ops.new_session_token()
        audit.record(
            "user.update",
            "user",
            user.id,
            details={"username": user.username, "changes": changes},
        )
    scope_changes = _replace_scopes(user, current, wanted)
    if scope_changes and not changes:
        # Scopes live in their own table: bump the account's version anyway, so that another
        # administrator's stale form is refused instead of overwriting them.
        flag_modified(user, "display_name")
    db.session.flush()
    return {**changes, **scope_changes}


def reset_password(user: User, new: str, confirm: str) -> None:
    """An administrator sets a new password; the account's open sessions end."""
    _check_new_password(new, confirm, field="new_password")
    user.password_hash = hash_password(new)
    user.session_token = auth_ops.new_session_token()
    audit.record("user.password_reset", "user", user.id, details={"username": user.username})
    db.session.flush()


def unlock_user(user: User) -> None:
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    user.locked_until = None
    user.failed_logins = 0
    audit.record(
        "user.unlock",
        "user",
        user.id,
        details={"username": user.username, "was_locked": was_locked},
    )
    db.session.flush()


def reset_totp(user: User, by: User) -> None:
    """Remove the account's second factor (lost phone); it enrols again at the next login if
    its role requires two-factor authentication."""
    if not user.totp_enabled:
        raise DomainError("La double authentification n'est pas active sur ce compte.")
    if user.id == by.id and auth_ops.totp_required_for(user):
        raise DomainError(
            "La double authentification est obligatoire pour votre rôle : demandez à un autre "
            "administrateur de la réinitialiser."
        )
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    audit.record("user.totp_reset", "user", user.id, details={"username": user.username})
    db.session.flush()


# --- coordinators' scopes ------------------------------------------------------------------

# (RCP ids, establishment ids), each sorted.
Scopes = tuple[tuple[int, ...], tuple[int, ...]]
_NO_SCOPES: Scopes = ((), ())


def coordinator_scopes(user: User) -> Scopes:
    """The RCPs and establishments a coordinator runs, as stored."""
    rows = db.session.execute(
        select(CoordinatorScope.rcp_id, CoordinatorScope.establishment_id).where(
            CoordinatorScope.user_id == user.id
        )
    ).all()
    return (
        tuple(sorted(r.rcp_id for r in rows if r.rcp_id is not None)),
        tuple(sorted(r.establishment_id for r in rows if r.establishment_id is not None)),
    )


def _ids(values: Iterable[int] | None) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values or ()}))


# field -> (message for unknown ids, message for inactive ones)
_SCOPE_MESSAGES = {
    "rcp_ids": (
        "RCP inconnue (n° {ids}) : rechargez la page.",
        "RCP inactive : {names}. Réactivez-la dans l'annuaire avant de la confier à un compte "
        "de coordination.",
    ),
    "establishment_ids": (
        "Établissement inconnu (n° {ids}) : rechargez la page.",
        "Établissement inactif : {names}. Réactivez-le dans l'annuaire avant de le confier à "
        "un compte de coordination.",
    ),
}


def _check_known(model, ids: tuple[int, ...], already: tuple[int, ...], field: str) -> None:
    """Every id exists; one not already in the scope must be active (a closed RCP stays
    listed until it is removed, but is not added)."""
    if not ids:
        return
    unknown, inactive = _SCOPE_MESSAGES[field]
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in rows]
    if missing:
        raise DomainError(unknown.format(ids=", ".join(missing)), field=field)
    closed = [rows[i].name for i in ids if i not in already and not rows[i].active]
    if closed:
        raise DomainError(inactive.format(names=", ".join(closed)), field=field)


def _checked_scopes(role: str, rcp_ids, establishment_ids, current: Scopes) -> Scopes:
    wanted = (_ids(rcp_ids), _ids(establishment_ids))
    if role != "coordinator":
        if any(wanted):
            raise DomainError(
                "Seul un compte « " + ROLE_LABELS["coordinator"] + " » coordonne des RCP ou "
                "des établissements : retirez les RCP et établissements coordonnés, ou "
                "choisissez ce rôle.",
                field="rcp_ids" if wanted[0] else "establishment_ids",
            )
        return wanted
    _check_known(Rcp, wanted[0], current[0], "rcp_ids")
    _check_known(Establishment, wanted[1], current[1], "establishment_ids")
    return wanted


def _replace_scopes(user: User, old: Scopes, new: Scopes) -> dict:
    """Replace the stored rows by ``new``; audit ``user.scopes`` with the old and new ids."""
    if old == new:
        return {}
    db.session.execute(delete(CoordinatorScope).where(CoordinatorScope.user_id == user.id))
    db.session.add_all(
        [CoordinatorScope(user_id=user.id, rcp_id=rcp_id) for rcp_id in new[0]]
        + [CoordinatorScope(user_id=user.id, establishment_id=e_id) for e_id in new[1]]
    )
    changes = {}
    if old[0] != new[0]:
        changes["rcp_ids"] = [list(old[0]), list(new[0])]
    if old[1] != new[1]:
        changes["establishment_ids"] = [list(old[1]), list(new[1])]
    audit.record(
        "user.scopes", "user", user.id, details={"username": user.username, "changes": changes}
    )
    db.session.flush()
    return changes


def set_coordinator_scopes(
    user: User, rcp_ids: Iterable[int], establishment_ids: Iterable[int]
) -> dict:
    """Replace a coordinator's scopes (RCPs run, establishments whose RCPs they all run).

    Only a coordinator has scopes; a coordinator without any sees no case at all. Returns
    {"rcp_ids": [old, new], "establishment_ids": [old, new]} for what changed."""
    current = coordinator_scopes(user)
    wanted = _checked_scopes(user.role, rcp_ids, establishment_ids, current)
    return _replace_scopes(user, current, wanted)


def scope_summaries(users: Iterable[User]) -> dict[int, list[str]]:
    """For the user list: each coordinator's scope as short labels (RCP names, « toutes les
    RCP de <établissement> »), in one query."""
    ids = [u.id for u in users if u.role == "coordinator"]
    if not ids:
        return {}
    rows = db.session.execute(
        select(CoordinatorScope.user_id, Rcp.name, Establishment.name)
        .outerjoin(Rcp, Rcp.id == CoordinatorScope.rcp_id)
        .outerjoin(Establishment, Establishment.id == CoordinatorScope.establishment_id)
        .where(CoordinatorScope.user_id.in_(ids))
    ).all()
    # Establishments first (they say the most), then RCPs; sorted here, not by ORDER BY, whose
    # NULL placement differs between SQLite and PostgreSQL.
    ordered = sorted(rows, key=lambda r: (r.user_id, r[1] is not None, r[2] or "", r[1] or ""))
    summaries: dict[int, list[str]] = {i: [] for i in ids}
    for user_id, rcp_name, establishment_name in ordered:
        summaries[user_id].append(
            rcp_name if rcp_name else f"toutes les RCP de : {establishment_name}"
        )
    return summaries
