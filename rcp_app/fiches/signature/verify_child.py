"""``python -m rcp_app.fiches.signature.verify_child ROOT.pem…``: check stdin's PDF, print JSON.

The public verification page hands uploaded files to this child process so that a hostile file
costs at most the CPU seconds and memory the parent allows it (``bounded.py``), and never
the web worker's own time. It imports only the signature checker, not the application.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from .verify import load_trust_roots, verify_pdf


def main(argv: list[str]) -> int:
    roots = load_trust_roots([Path(p) for p in argv])
    report = verify_pdf(sys.stdin.buffer.read(), roots)
    payload = asdict(report)
    if report.signed_at is not None:
        payload["signed_at"] = report.signed_at.isoformat()
    sys.stdout.write(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
