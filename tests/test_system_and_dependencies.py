"""Reproducible installs: the system check that `make run` and `make test` run first, the lock
file `make install` installs from, and the dependencies the code imports directly."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name

from rcp_app.core import syscheck

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPT = ROOT / "rcp_app" / "core" / "syscheck.py"
# Modules that run only under `make run` or the tests: their imports belong to the dev extra.
DEV_ONLY_MODULES = {"rcp_app/delivery/mailbox.py"}


# --- the system check ------------------------------------------------------------------------


def _found(name):
    return f"/usr/lib/{name}"


def test_one_missing_library_is_named_on_one_line_with_its_apt_get():
    needed = syscheck.requirements_for("test", {})
    absent = syscheck.missing(
        needed,
        find_library=lambda name: None if name == "harfbuzz-subset" else _found(name),
        which=_found,
        is_executable=lambda _path: True,
        is_file=lambda _path: True,
    )
    assert [r.package for r in absent] == ["libharfbuzz-subset0"]
    line = syscheck.report(absent)
    assert "\n" not in line
    assert "libharfbuzz-subset0 (harfbuzz-subset)" in line
    assert line.endswith("sudo apt-get install -y libharfbuzz-subset0")


def test_each_package_is_named_once_in_the_command():
    absent = syscheck.missing(
        syscheck.requirements_for("test", {}),
        find_library=_found,
        which=lambda _name: None,  # pdfsig, pdffonts (both poppler-utils) and certutil
        is_executable=lambda _path: True,
        is_file=lambda _path: True,
    )
    assert syscheck.report(absent).endswith(
        "apt-get install -y poppler-utils libnss3-tools curl jq"
    )


def test_profiles():
    run = {r.package for r in syscheck.requirements_for("run", {"CI": "true"})}
    assert "libharfbuzz-subset0" in run and "poppler-utils" not in run and "chromium" not in run
    local = {r.package for r in syscheck.requirements_for("test", {})}
    assert {"poppler-utils", "libnss3-tools"} <= local and "chromium" not in local
    ci = syscheck.requirements_for("test", {"CI": "true", "RCP_E2E_CHROMIUM": "/opt/c/chrome"})
    assert ci[-1] == syscheck.Requirement("chromium", "executable", "/opt/c/chrome")


def _run_script(*args, **env):
    # -I: the script's folder is not put on the module path (as the Makefile runs it).
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_the_script_passes_on_this_machine_and_fails_in_one_line_otherwise():
    assert _run_script("test").returncode == 0
    result = _run_script("test", CI="true", RCP_E2E_CHROMIUM="/nulle/part/chromium")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "chromium (/nulle/part/chromium)" in result.stderr
    assert "apt-get install -y chromium" in result.stderr
    listed = _run_script("test", "--packages", CI="true", RCP_E2E_CHROMIUM="/nulle/part")
    assert listed.returncode == 0 and listed.stdout.split() == ["chromium"]


def _make_dry_run(target: str) -> list[str]:
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # Run from `make test` itself, make prints « make[1]: Entering directory … » first.
    return [line for line in result.stdout.splitlines() if not line.startswith("make[")]


@pytest.mark.parametrize(("target", "profile"), [("run", "run"), ("test", "test")])
def test_make_checks_the_system_before_anything_else(target, profile):
    lines = _make_dry_run(target)
    assert "syscheck.py" in lines[0] and lines[0].endswith(profile), lines[:3]


def test_without_harfbuzz_subset_weasyprint_breaks_the_test_suite():
    """Why the check runs before pytest: WeasyPrint then warns on import (DeprecationWarning),
    and the suite's ``filterwarnings = error`` turns that into errors in every module that
    renders a PDF. Simulated by refusing to load the library."""
    code = textwrap.dedent(
        """
        import warnings
        import cffi

        real = cffi.FFI.dlopen

        def dlopen(self, name, *args):
            if "harfbuzz-subset" in str(name):
                raise OSError(f"cannot load {name}")
            return real(self, name, *args)

        cffi.FFI.dlopen = dlopen
        warnings.simplefilter("error")
        try:
            import weasyprint  # noqa: F401
        except DeprecationWarning as warning:
            print("DeprecationWarning:", warning)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert "DeprecationWarning: HarfBuzz-Subset will be required" in result.stdout, result


# --- dependencies ----------------------------------------------------------------------------


def _declared(group: list[str]) -> dict[str, Pep508]:
    return {canonicalize_name(Pep508(r).name): Pep508(r) for r in group}


RUNTIME = _declared(PYPROJECT["project"]["dependencies"])
DEV = _declared(PYPROJECT["project"]["optional-dependencies"]["dev"])


def _third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "rcp_app"}


def _distributions(module: str) -> set[str]:
    return {canonicalize_name(d) for d in importlib.metadata.packages_distributions()[module]}


def test_every_library_the_application_imports_is_declared():
    undeclared = []
    for path in sorted((ROOT / "rcp_app").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        allowed = {**RUNTIME, **DEV} if relative in DEV_ONLY_MODULES else RUNTIME
        for module in _third_party_imports(path):
            if not _distributions(module) & allowed.keys():
                undeclared.append(f"{relative}: {module} ({_distributions(module)})")
    assert undeclared == []


def test_signed_output_libraries_have_a_major_version_ceiling():
    for name in ("weasyprint", "pypdf", "pyhanko", "pyhanko-certvalidator"):
        specifiers = RUNTIME[name].specifier
        assert any(s.operator in ("<", "==") for s in specifiers), name


def test_the_application_imports_without_the_development_mail_server():
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        sys.modules["aiosmtpd"] = None  # not installed
        import rcp_app
        skipped = {"rcp_app.delivery.mailbox"}
        for module in pkgutil.walk_packages(rcp_app.__path__, "rcp_app."):
            if module.name not in skipped:
                importlib.import_module(module.name)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def _locked() -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text()
    entries = {}
    for match in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)((?:\s*\\\n\s+--hash=\S+)*)", text, re.M):
        entries[canonicalize_name(match.group(1))] = (
            match.group(2),
            match.group(3).count("--hash="),
        )
    return entries


def test_the_lock_pins_every_dependency_with_hashes_at_the_installed_version():
    locked = _locked()
    assert (RUNTIME.keys() | DEV.keys()) <= locked.keys()
    for name, (version, hashes) in locked.items():
        assert hashes >= 1, name
        assert importlib.metadata.version(name) == version, name
        # What pyproject.toml allows, the lock respects.
        declared = RUNTIME.get(name) or DEV.get(name)
        if declared is not None:
            assert declared.specifier.contains(version, prereleases=True), name


def test_make_install_uses_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert "make lock" in (ROOT / "requirements.lock").read_text()
