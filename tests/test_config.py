"""Settings: every RCP_* environment variable is read where documented, and documented."""

from __future__ import annotations

import re
from pathlib import Path

from werkzeug.middleware.proxy_fix import ProxyFix

from rcp_app.config import build_config

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
