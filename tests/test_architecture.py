"""The feature packages of ``rcp_app`` form layers: no two of them import each other.

Every module under ``rcp_app/`` is parsed with ``ast`` (imports at module level and inside
functions, absolute and relative, ``TYPE_CHECKING`` blocks included: a type annotation is a
dependency too). Each import is mapped to the feature package it reaches, ``rcp_app.<pkg>``.

The base layer, which any feature may import and which imports no feature: ``core``,
``extensions``, ``config``. The application's assembly imports every feature and is imported by
none: ``rcp_app/__init__.py`` (``create_app``), ``rcp_app/models.py`` (the model registry
Alembic reads) and ``rcp_app/cli.py`` (the ``flask rcp`` commands).

The feature layers, lowest first (``LAYERS`` below); a package imports only packages below it:

    access                        care teams: who may see which patient (lists filter on it);
                                  it reads the tables it needs by name and imports no feature
    staging, terminology          reference data (TNM tables, biomarkers, value sets)
    directory                     establishments, RCPs and their members, professionals
    auth                          users and roles (a user may be a directory professional)
    patients                      identity, INS
    meetings                      sessions, their calendar, documents and notifications
    cases                         case registration (cites an RCP, a session)
    agenda                        a session's agenda, which moves cases; the session pages
    attendance                    who was present, quorum
    decisions                     the FRCP decision
    fiches                        signed documents (cda/, signature/)
    fhir, pps                     a signed fiche version as a FHIR R4 document Bundle; the
                                  patient's care programme (PPS: CDA CANCER-PPS, patient PDF)
    delivery                      outbox, messages, the GP's inbox
    hl7, followups                the HL7 v2 identity feed (MLLP listener, ADT A28/A31/A40);
                                  what became of each proposal (closed loop, reminders)
    admin                         accounts, the audit log
    reports                       activity and quality indicators, their exports and report
    api                           /api/v1 for hospital systems: OAuth clients, resources, webhooks
    main, demo, privacy           pages over everything, the demonstration data, the DPO's pages

When a lower package must make a higher one act (an RCP saved → its sessions planned, a fiche
signed → its transmissions queued, a session closing → refused while a decision is missing), it
sends a signal of ``core/signals.py`` and the higher package connects a receiver. When a lower
package's page shows something a higher one owns (the RCP page's upcoming sessions, the case
page's signed fiche), the higher package's blueprint registers a template global
(``@bp.app_template_global``) that the lower template calls. Either way the dependency points
upwards only through ``core`` or the templates, never through an import.

The test asserts (a) every feature package has its place in ``LAYERS`` and imports only
packages of lower layers (hence no cycle; the cycle search still names one, should ``LAYERS``
be edited to allow it), (b) the base layer imports no feature package, and (c) nothing imports
the assembly. Imports are read wherever they stand, so an import inside a function does not
hide a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rcp_app"
BASE = {"core", "extensions", "config"}
# The application's assembly: ``create_app`` (rcp_app/__init__.py), the model registry Alembic
# reads (rcp_app/models.py) and the ``flask rcp`` command group (rcp_app/cli.py). They import
# every feature; nothing imports them.
ASSEMBLY = {"rcp_app", "rcp_app.models", "rcp_app.cli"}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every ``rcp_app`` name ``path`` imports, wherever the import statement stands."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            # ``from rcp_app import cases`` and ``from . import operations`` name modules.
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] == root.name}


def is_module(module: str, root: Path = PACKAGE) -> bool:
    """Whether ``module`` is a module or package (not a function or class imported from one)."""
    path = root.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer(module: str) -> str:
    """The feature package (``rcp_app.<pkg>``) of ``module``, or the module itself if it is
    part of the assembly."""
    if module in ASSEMBLY:
        return module
    return module.split(".")[1]


def edges(root: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> the imports that make that edge."""
    graph: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        source = module_name(path, root)
        targets = {t for t in imported_modules(path, root) if t != source and is_module(t, root)}
        for target in sorted(targets):
            if any(other.startswith(f"{target}.") for other in targets):
                continue  # ``from ..meetings import agenda``: the edge is named by agenda
            importer, imported = layer(source), layer(target)
            if importer != imported:
                graph[(importer, imported)].append(f"{source} -> {target}")
    return graph


def feature_cycle(graph) -> list[str] | None:
    """One cycle between feature packages (base layer left out), or None."""
    successors = defaultdict(set)
    for importer, imported in graph:
        if not {importer, imported} & (BASE | ASSEMBLY):
            successors[importer].add(imported)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(package):
        state[package] = 1
        path.append(package)
        for nxt in sorted(successors[package]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[package] = 2
        return None

    for package in sorted(successors):
        if package not in state and (cycle := visit(package)):
            return cycle
    return None


def describe(graph, cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        lines.extend(f"    {line}" for line in graph[(importer, imported)])
    return "\n".join(lines)


# Lowest first; packages of one layer do not import each other either.
LAYERS = [
    {"access"},
    {"staging", "terminology"},
    {"directory"},
    {"auth"},
    {"patients"},
    {"meetings"},
    {"cases"},
    {"agenda"},
    {"attendance"},
    {"decisions"},
    {"fiches"},
    {"fhir", "pps"},
    {"delivery"},
    {"hl7", "followups"},
    {"admin"},
    {"reports"},
    {"api"},
    {"main", "demo", "privacy"},
]


def feature_packages(root: Path = PACKAGE) -> set[str]:
    return {
        path.parent.name
        for path in root.glob("*/__init__.py")
        if path.parent.name not in BASE | ASSEMBLY
    }


def against_the_layers(graph, layers=LAYERS) -> list[str]:
    """The imports from a package to one of its own layer or a higher one."""
    rank = {package: i for i, layer in enumerate(layers) for package in layer}
    return [
        line
        for (importer, imported), lines in sorted(graph.items())
        if importer in rank and imported in rank and rank[importer] <= rank[imported]
        for line in lines
    ]


def test_every_feature_package_has_a_layer():
    placed = set().union(*LAYERS)
    assert sorted(feature_packages() - placed) == [], "add the new package to LAYERS"
    assert sorted(placed - feature_packages()) == [], "remove the deleted package from LAYERS"


def test_a_package_imports_only_lower_layers():
    assert against_the_layers(edges()) == []


def test_no_cycle_between_feature_packages():
    graph = edges()
    cycle = feature_cycle(graph)
    assert cycle is None, "feature packages import each other:\n" + describe(graph, cycle)


@pytest.mark.parametrize("base", sorted(BASE))
def test_the_base_layer_imports_no_feature_package(base):
    graph = edges()
    offending = [
        line
        for (importer, imported), lines in graph.items()
        if importer == base and imported not in BASE
        for line in lines
    ]
    assert offending == []


def test_nothing_imports_the_assembly():
    graph = edges()
    offending = [
        line
        for (importer, imported), lines in graph.items()
        if imported in ASSEMBLY and importer not in ASSEMBLY
        for line in lines
    ]
    assert offending == []


# --- the checker itself --------------------------------------------------------------------


def test_a_cycle_is_found_and_named():
    graph = {
        ("cases", "meetings"): ["rcp_app.cases.x -> rcp_app.meetings.y"],
        ("meetings", "directory"): ["rcp_app.meetings.y -> rcp_app.directory.z"],
        ("directory", "cases"): ["rcp_app.directory.z -> rcp_app.cases.w"],
        ("cases", "core"): ["rcp_app.cases.x -> rcp_app.core.audit"],
        ("core", "cases"): ["rcp_app.core.q -> rcp_app.cases.x"],
    }
    cycle = feature_cycle(graph)
    assert cycle == ["cases", "meetings", "directory", "cases"]
    assert "rcp_app.directory.z -> rcp_app.cases.w" in describe(graph, cycle)
    del graph[("directory", "cases")]
    assert feature_cycle(graph) is None  # the cycle through core is test (b)'s business


def test_an_import_upwards_or_sideways_is_named():
    graph = {
        ("cases", "meetings"): ["rcp_app.cases.models -> rcp_app.meetings.models"],
        ("meetings", "cases"): ["rcp_app.meetings.x -> rcp_app.cases.models"],
        ("main", "demo"): ["rcp_app.main.views -> rcp_app.demo.loader"],
        ("cases", "core"): ["rcp_app.cases.models -> rcp_app.core.audit"],
    }
    assert against_the_layers(graph) == [
        "rcp_app.main.views -> rcp_app.demo.loader",
        "rcp_app.meetings.x -> rcp_app.cases.models",
    ]


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        ("rcp_app/cases/views.py", "from ..meetings import models", "rcp_app.meetings.models"),
        ("rcp_app/cases/views.py", "from . import operations", "rcp_app.cases.operations"),
        ("rcp_app/fiches/cda/tnm.py", "from .xml import el", "rcp_app.fiches.cda.xml"),
        ("rcp_app/fiches/cda/tnm.py", "from ...staging import x", "rcp_app.staging"),
        ("rcp_app/fiches/cda/__init__.py", "from .header import h", "rcp_app.fiches.cda.header"),
        (
            "rcp_app/cases/views.py",
            "import rcp_app.meetings.models as m",
            "rcp_app.meetings.models",
        ),
        (
            "rcp_app/cases/views.py",
            "def f():\n    from rcp_app.meetings import agenda",
            "rcp_app.meetings.agenda",
        ),
        (
            "rcp_app/cases/views.py",
            "if TYPE_CHECKING:\n    from ..delivery.models import Message",
            "rcp_app.delivery.models",
        ),
    ],
)
def test_imports_are_read_wherever_they_stand(tmp_path, path, code, expected):
    file = tmp_path / path
    file.parent.mkdir(parents=True)
    file.write_text(code)
    assert expected in imported_modules(file, tmp_path / "rcp_app")


def test_an_import_inside_a_function_makes_an_edge(tmp_path):
    root = tmp_path / "rcp_app"
    for name in ("cases", "meetings"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    (root / "cases" / "views.py").write_text("def f():\n    from ..meetings import agenda\n")
    (root / "meetings" / "agenda.py").write_text("from ..cases.views import f\n")
    graph = edges(root)
    assert graph[("cases", "meetings")] == ["rcp_app.cases.views -> rcp_app.meetings.agenda"]
    assert feature_cycle(graph) == ["cases", "meetings", "cases"]


def test_every_signal_is_received_once_the_application_exists(app):
    """A signal nobody receives would drop a transmission or a check without a word."""
    from blinker import Signal

    from rcp_app.core import signals

    found = {name: s for name, s in vars(signals).items() if isinstance(s, Signal)}
    assert found, "core/signals.py defines no signal"
    assert [name for name, s in found.items() if not s.receivers] == []


def test_sending_a_signal_nobody_receives_fails():
    from blinker import Namespace

    from rcp_app.core import signals

    with pytest.raises(RuntimeError, match="orphan"):
        signals.send(Namespace().signal("orphan"), object())
