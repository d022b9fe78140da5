"""The application's seal and trusted roots, loaded once per process from the configuration.

Loading parses the private key once: signing 40 fiches at the end of a meeting must not pay
the PKCS#12 decryption and key parsing 40 times.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app

from .pades import Sealer, SigningConfigurationError, load_sealer
from .pki import generate_test_pki, read_passphrase
from .verify import load_trust_roots

EXTENSION = "rcp_seal"


_TEST_PKI_LOCK = threading.Lock()


def ensure_test_pki(app: Flask) -> None:
    """Outside production without a configured seal: create the test PKI under instance/
    (once: two first requests signing at the same moment must not both write it)."""
    directory = app.config.get("RCP_TEST_PKI_DIR")
    if directory:
        with _TEST_PKI_LOCK:
            generate_test_pki(Path(directory))


def _passphrase(config) -> bytes:
    if config.get("RCP_SEAL_PASSPHRASE"):
        return config["RCP_SEAL_PASSPHRASE"].encode()
    path = config.get("RCP_SEAL_PASSPHRASE_FILE")
    if not path:
        return b""
    try:
        return read_passphrase(Path(path))
    except OSError as exc:
        raise SigningConfigurationError(
            f"Fichier de la phrase de passe du cachet illisible : {path}."
        ) from exc


def sealer() -> Sealer:
    state = current_app.extensions.setdefault(EXTENSION, {})
    if "sealer" not in state:
        config = current_app.config
        ensure_test_pki(current_app)
        state["sealer"] = load_sealer(
            config["RCP_SEAL_P12"], _passphrase(config), timestamp_url=config["RCP_TSA_URL"]
        )
    return state["sealer"]


def trust_roots() -> list:
    state = current_app.extensions.setdefault(EXTENSION, {})
    if "roots" not in state:
        ensure_test_pki(current_app)
        paths = [Path(p) for p in current_app.config["RCP_TRUST_ROOTS"]]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise SigningConfigurationError(
                f"Certificat(s) d'autorité de confiance introuvable(s) : {', '.join(missing)}."
            )
        state["roots"] = load_trust_roots(paths)
    return state["roots"]
