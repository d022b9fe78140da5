"""System packages (Debian) that ``make run`` and ``make test`` need, checked before they start.

Without them the failures come late and far from their cause: WeasyPrint without
libharfbuzz-subset0 emits a DeprecationWarning on import, which the test suite's
``filterwarnings = error`` turns into dozens of collection errors; without pdfsig or certutil
the signature tests fail one by one. This check names every missing package on one line with
the ``apt-get install`` that fixes it, and stops.

    python -m rcp_app.core.syscheck run    # what the application needs (PDF rendering)
    python -m rcp_app.core.syscheck test   # and what the tests need (CI=true: Chromium too)

Importing this module imports nothing of the application (nor WeasyPrint).
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    package: str  # the Debian package that provides it
    # "library" (a name for ctypes.util.find_library), "program" (looked up on PATH),
    # "executable" or "file" (a path).
    kind: str
    name: str

    def describe(self) -> str:
        return f"{self.package} ({self.name})"


# WeasyPrint's libraries (weasyprint/text/ffi.py), fiche PDFs and agendas.
APPLICATION = (
    Requirement("libglib2.0-0", "library", "gobject-2.0"),
    Requirement("libpango-1.0-0", "library", "pango-1.0"),
    Requirement("libpangoft2-1.0-0", "library", "pangoft2-1.0"),
    Requirement("libharfbuzz0b", "library", "harfbuzz"),
    Requirement("libharfbuzz-subset0", "library", "harfbuzz-subset"),
    Requirement("libfontconfig1", "library", "fontconfig"),
    # The fiche's font (templates/fiches/fiche_pdf.html), embedded in every sealed PDF.
    Requirement("fonts-dejavu-core", "file", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
# Independent checks of the sealed fiches (tests/fiches): poppler and NSS's certutil.
TESTS = (
    Requirement("poppler-utils", "program", "pdfsig"),
    Requirement("poppler-utils", "program", "pdffonts"),
    Requirement("libnss3-tools", "program", "certutil"),
    # The README's API examples, run as written (tests/api/test_readme_curl.py).
    Requirement("curl", "program", "curl"),
    Requirement("jq", "program", "jq"),
)
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def requirements_for(profile: str, env: Mapping[str, str]) -> list[Requirement]:
    """``run``: the application; ``test``: the tests too, and Chromium when the browser tests
    are mandatory (CI=true; elsewhere they skip without it)."""
    if profile == "run":
        return list(APPLICATION)
    if profile != "test":
        raise ValueError(f"unknown profile: {profile}")
    needed = [*APPLICATION, *TESTS]
    if env.get("CI", "").lower() == "true":
        needed.append(
            Requirement("chromium", "executable", env.get("RCP_E2E_CHROMIUM") or DEFAULT_CHROMIUM)
        )
    return needed


def _executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def missing(
    requirements: Iterable[Requirement],
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
    which: Callable[[str], str | None] = shutil.which,
    is_executable: Callable[[str], bool] = _executable_file,
    is_file: Callable[[str], bool] = os.path.isfile,
) -> list[Requirement]:
    """The requirements not found (the lookups are parameters, for the tests)."""
    found = {
        "library": lambda r: find_library(r.name) is not None,
        "program": lambda r: which(r.name) is not None,
        "executable": lambda r: is_executable(r.name),
        "file": lambda r: is_file(r.name),
    }
    return [r for r in requirements if not found[r.kind](r)]


def report(absent: list[Requirement]) -> str:
    """One line: what is missing, and the command that installs it."""
    packages = " ".join(dict.fromkeys(r.package for r in absent))
    what = ", ".join(r.describe() for r in absent)
    return f"Paquets système manquants : {what}. Installez-les : sudo apt-get install -y {packages}"


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``run`` or ``test``; with ``--packages``, print the missing packages' names only
    (.ci/run installs them) and succeed."""
    args = sys.argv[1:] if argv is None else argv
    profile = next((a for a in args if not a.startswith("--")), "run")
    absent = missing(requirements_for(profile, os.environ if env is None else env))
    if "--packages" in args:
        print(" ".join(dict.fromkeys(r.package for r in absent)))
        return 0
    if absent:
        print(report(absent), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
