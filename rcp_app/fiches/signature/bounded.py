"""Signature checks of untrusted files, bounded in size, CPU time and memory.

Anyone may upload a file to the public verification page. A cheap look at the bytes first
(a PDF starts with ``%PDF-`` and ends with ``%%EOF``: pyHanko's search for the end of a file
that has none costs about a second of CPU per megabyte), then the check itself in a child
process limited by ``RLIMIT_CPU`` and ``RLIMIT_AS`` and a wall-clock timeout. The web worker
only waits, holding no database transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import subprocess
import sys

from flask import current_app

from .seal import trust_roots
from .verify import NOT_A_PDF, SignatureReport

log = logging.getLogger(__name__)

TOO_COMPLEX = (
    "Le fichier n'a pas pu être vérifié dans le temps imparti (fichier trop complexe ou "
    "malformé) : ce n'est pas une fiche émise par ce service."
)
_MEMORY_BYTES = 1024 * 1024 * 1024
_EOF_WINDOW = 2048


def looks_like_a_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF-") and b"%%EOF" in data[-_EOF_WINDOW:]


def check_signature(data: bytes) -> SignatureReport:
    """The signature report of ``data``; never raises, whatever the input."""
    if not looks_like_a_pdf(data):
        return SignatureReport(problems=[NOT_A_PDF])
    config = current_app.config
    cpu_seconds = int(config["RCP_VERIFY_CPU_SECONDS"])
    trust_roots()  # creates the test PKI on first use, as the parent would
    command = [
        sys.executable,
        "-m",
        "rcp_app.fiches.signature.verify_child",
        *config["RCP_TRUST_ROOTS"],
    ]
    process = subprocess.Popen(  # noqa: S603 (our own module, no shell)
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        resource.prlimit(process.pid, resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.prlimit(process.pid, resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    except (OSError, ValueError):  # the child already exited
        pass
    try:
        out, _ = process.communicate(data, timeout=cpu_seconds * 3 + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        log.warning("verification child timed out")
        return SignatureReport(problems=[TOO_COMPLEX])
    if process.returncode != 0:
        log.warning("verification child ended with status %s", process.returncode)
        return SignatureReport(problems=[TOO_COMPLEX])
    return _report(json.loads(out))


def _report(payload: dict) -> SignatureReport:
    signed_at = payload.get("signed_at")
    if signed_at:
        payload["signed_at"] = dt.datetime.fromisoformat(signed_at)
    return SignatureReport(**payload)
