"""Settings: every RCP_* environment variable is read where documented, and documented."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from werkzeug.middleware.proxy_fix import ProxyFix

from rcp_app.auth.models import User
from rcp_app.config import build_config
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.pdf import fiche_html, qr_data_uri
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import build_world

ROOT = Path(__file__).resolve().parents[1]


def _env_variables() -> set[str]:
    source = (ROOT / "rcp_app" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'env\.get\(\s*"(RCP_[A-Z_]+)"', source))


def test_every_environment_variable_is_in_the_readme():
    variables = _env_variables()
    assert {"RCP_ATTACHMENTS_DIR", "RCP_MAX_ATTACHMENT_BYTES", "RCP_TRUSTED_PROXIES"} <= variables
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    missing = sorted(v for v in variables if f"`{v}`" not in section)
    assert missing == [], "RCP_* variables missing from the README's configuration table"


def test_trusted_proxies_come_from_the_environment(tmp_path, make_test_app):
    env = {"RCP_SECRET_KEY": "x"}
    assert build_config(str(tmp_path), env)["RCP_TRUSTED_PROXIES"] == 0
    assert (
        build_config(str(tmp_path), {**env, "RCP_TRUSTED_PROXIES": "1"})["RCP_TRUSTED_PROXIES"] == 1
    )
    app = make_test_app(ENV_VARS={**env, "RCP_TRUSTED_PROXIES": "1"})
    assert isinstance(app.wsgi_app, ProxyFix)
    assert not isinstance(make_test_app(ENV_VARS=env).wsgi_app, ProxyFix)


def test_request_size_follows_the_attachment_limit(tmp_path):
    env = {"RCP_SECRET_KEY": "x"}
    default = build_config(str(tmp_path), env)
    assert default["RCP_MAX_ATTACHMENT_BYTES"] == 20 * 1024 * 1024
    assert default["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024
    larger = build_config(str(tmp_path), {**env, "RCP_MAX_ATTACHMENT_BYTES": str(40 * 1024**2)})
    assert larger["MAX_CONTENT_LENGTH"] == 41 * 1024 * 1024
    assert (
        build_config(str(tmp_path), {**env, "RCP_ATTACHMENTS_DIR": "/srv/pj"})[
            "RCP_ATTACHMENTS_DIR"
        ]
        == "/srv/pj"
    )


# --- make run: the public address follows the port actually served ----------------------------

# The three processes of `make run` that put the public address into what they produce: the
# demo's signed fiches (setup), the e-mails (the delivery worker), the fiches signed on a page.
MAKE_RUN_COMMANDS = ("flask rcp setup", "flask rcp deliver", "flask run")


def make_run_environments(*make_args: str, **env: str) -> dict[str, dict[str, str]]:
    """The RCP_* variables `make run` (dry run: nothing is started) gives each process."""
    if shutil.which("make") is None:
        pytest.skip("make n'est pas installé")
    clean = {k: v for k, v in os.environ.items() if k not in {"RCP_PUBLIC_URL", "HOST", "PORT"}}
    dry_run = subprocess.run(
        ["make", "-n", "run", *make_args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    found = {}
    for line in dry_run.replace("\\\n", "\n").splitlines():
        for command in MAKE_RUN_COMMANDS:
            if command in line and "python -m" not in line:
                prefix = line[: line.index(command)]
                words = shlex.split(prefix.replace(".venv/bin/", ""))
                found[command] = dict(w.split("=", 1) for w in words if re.match(r"^RCP_\w+=", w))
    assert set(found) == set(MAKE_RUN_COMMANDS), dry_run
    return found


def test_make_run_prints_the_port_it_serves_on_the_fiches():
    for environment in make_run_environments("PORT=5101").values():
        assert environment["RCP_PUBLIC_URL"] == "http://127.0.0.1:5101"
    assert {e["RCP_PUBLIC_URL"] for e in make_run_environments("HOST=192.0.2.7").values()} == {
        "http://192.0.2.7:5000"
    }
    # An explicit address (a reverse proxy, a name) wins, from the environment or the command.
    configured = {"RCP_PUBLIC_URL": "https://rcp.chu.example"}
    for environment in make_run_environments("PORT=5101", **configured).values():
        assert environment["RCP_PUBLIC_URL"] == "https://rcp.chu.example"
    for environment in make_run_environments("RCP_PUBLIC_URL=https://rcp.chu.example").values():
        assert environment["RCP_PUBLIC_URL"] == "https://rcp.chu.example"


def test_a_fiche_signed_under_make_run_port_links_to_that_port(app, make, make_test_app):
    served = make_run_environments("PORT=5101")["flask run"]
    world = build_world(app, make)
    other = make_test_app(
        ENV_VARS={
            "RCP_SECRET_KEY": "test-secret-key-not-for-production",
            "RCP_AUDIT_KEY": "test-audit-key-not-for-production",
            **served,
        }
    )
    with other.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        version = fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
        code = version.verification_code
        url = f"http://127.0.0.1:5101/verifier?code={code}"
        assert version.snapshot_dict()["document"]["verification_url"] == url
        pdf = version.document("pdf").content
        # The QR code is drawn from that address (the same picture as for the expected URL).
        assert qr_data_uri(url) in fiche_html(version.snapshot_dict())
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "http://127.0.0.1:5101/verifier" in text.replace("\n", "")
    assert ":5000" not in text


# --- README: making pdfsig trust the demonstration CA ----------------------------------------


def readme_pdfsig_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Vérifier une fiche avec pdfsig.**") :]
    block = section[section.index("```sh\n") + len("```sh\n") :]
    return block[: block.index("```")].strip().splitlines()


def test_the_readme_pdfsig_commands_make_a_signed_fiche_trusted(app, make, tmp_path):
    """The README's commands, run as written (a fresh HOME, from a copy of the project folder
    holding the test CA where `make run` writes it), make pdfsig trust a signed fiche."""
    for program in ("pdfsig", "certutil"):
        assert shutil.which(program), f"{program} est requis (poppler-utils, libnss3-tools)"
    world = build_world(app, make)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        version = fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
        pdf = version.document("pdf").content
        ca = Path(app.config["RCP_TRUST_ROOTS"][0])
    project = tmp_path / "projet"
    (project / "instance" / "pki-test").mkdir(parents=True)
    shutil.copy(ca, project / "instance" / "pki-test" / "test-ca.pem")
    (project / "fiche.pdf").write_bytes(pdf)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}

    commands = readme_pdfsig_commands()
    assert commands[-1].startswith("pdfsig ") and commands[-1].endswith(" fiche.pdf")
    before = subprocess.run(
        ["bash", "-c", commands[-1]], cwd=project, env=env, capture_output=True, text=True
    )
    assert "Certificate Validation: Certificate is Trusted." not in before.stdout

    result = subprocess.run(
        ["bash", "-e", "-c", "\n".join(commands)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Validation: Signature is Valid." in result.stdout
    assert "Total document signed" in result.stdout
    assert "Certificate Validation: Certificate is Trusted." in result.stdout
    # Nothing was added to the browser's store (the README promises it).
    assert not (home / ".pki").exists()
