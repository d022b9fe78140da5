"""Checkpoints of the audit chain head, sealed and kept outside the database.

The keyed chain (``core/audit.py``) stops anyone without the key from rewriting rows, but not
from cutting the newest rows off the end: the shorter chain is still a valid chain. A
checkpoint records the head (sequence number and MAC) at a moment, sealed with the
organisation's seal certificate (detached CMS, time-stamped when a TSA is configured), in a
folder that an operator backs up apart from the database. ``verify_against`` then tells a chain
that no longer reaches, or no longer matches, what was attested.

A checkpoint is two files: ``audit-<seq>-<utc>.json`` and the same name with ``.p7s``.

The seal and the trusted roots are the ones the fiches use (``fiches/signature/seal.py``); the
callers pass them in, as functions called only when needed, so that ``core`` imports no
feature package.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms
from flask import current_app
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from ..extensions import db
from .audit import AuditEntry, verify_chain

FORMAT = "rcp-audit-checkpoint/1"


@dataclass
class Checkpoint:
    seq: int
    hash: str
    at: str
    path: Path


class CheckpointError(RuntimeError):
    """The checkpoint file cannot be trusted (missing, unreadable, or its seal fails)."""


def checkpoint_dir() -> Path:
    return Path(current_app.config["RCP_AUDIT_CHECKPOINT_DIR"])


def write_checkpoint(sealer: Callable[[], Any], directory: Path | None = None) -> Checkpoint | None:
    """Seal the current chain head into ``directory``; None while the log is empty.

    ``sealer`` gives the seal (an object with ``sign_detached(bytes)``), loaded only once
    there is something to seal. Only a chain that verifies is attested: sealing a broken one
    would vouch for the forgery.
    """
    report = verify_chain()
    if not report.ok:
        raise CheckpointError(
            f"Journal d'audit altéré à l'entrée n° {report.broken_at} ({report.reason}) : "
            "aucun point d'ancrage n'est scellé."
        )
    if report.head_seq == 0:
        return None
    now = datetime.now(UTC)
    body = {
        "format": FORMAT,
        "seq": report.head_seq,
        "hash": report.head_hash,
        "at": now.isoformat(timespec="seconds"),
    }
    data = json.dumps(body, sort_keys=True).encode("utf-8")
    directory = directory or checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"audit-{report.head_seq:012d}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    signature = sealer().sign_detached(data)
    # Signature first, then the JSON: a crash in between leaves no unsigned checkpoint.
    (directory / f"{name}.p7s").write_bytes(signature)
    (directory / f"{name}.json").write_bytes(data)
    return Checkpoint(report.head_seq, report.head_hash, body["at"], directory / f"{name}.json")


def latest_checkpoint(directory: Path | None = None) -> Path | None:
    directory = directory or checkpoint_dir()
    if not directory.is_dir():
        return None
    files = sorted(directory.glob("audit-*.json"))
    return files[-1] if files else None


def read_checkpoint(path: Path, trust_roots: Callable[[], Iterable[Any]]) -> Checkpoint:
    """The checkpoint at ``path``, after checking its seal against ``trust_roots()``."""
    try:
        data = path.read_bytes()
        signature = path.with_suffix(".p7s").read_bytes()
        body = json.loads(data)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Point d'ancrage illisible : {path}.") from exc
    if body.get("format") != FORMAT:
        raise CheckpointError(f"Point d'ancrage d'un format inconnu : {path}.")
    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        context = ValidationContext(
            trust_roots=list(trust_roots()), allow_fetching=False, revocation_mode="soft-fail"
        )
        status = asyncio.run(
            async_validate_detached_cms(data, signed_data, signer_validation_context=context)
        )
    except Exception as exc:
        raise CheckpointError(f"Sceau du point d'ancrage illisible : {path}.") from exc
    if not (status.intact and status.valid and status.trusted):
        raise CheckpointError(f"Le sceau du point d'ancrage n'est pas valide : {path}.")
    return Checkpoint(int(body["seq"]), str(body["hash"]), str(body["at"]), path)


def verify_against(checkpoint: Checkpoint) -> str | None:
    """What the database's chain says against ``checkpoint``: None if it still holds it."""
    row = db.session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == checkpoint.seq)
    ).first()
    if row is None:
        last = db.session.scalar(select(db.func.max(AuditEntry.seq))) or 0
        return (
            f"journal tronqué : la dernière entrée est la n° {last}, alors que le point "
            f"d'ancrage du {checkpoint.at} atteste l'entrée n° {checkpoint.seq}"
        )
    if row.hash != checkpoint.hash:
        return (
            f"l'entrée n° {checkpoint.seq} ne correspond plus au point d'ancrage du "
            f"{checkpoint.at} (journal réécrit)"
        )
    return None
