"""Parser for IHE SVS value-set files (the CI-SIS ``JDV_*.xml`` files).

Format (namespace ``urn:ihe:iti:svs:2008``)::

    <RetrieveValueSetResponse>
      <ValueSet id="OID" displayName="JDV_…" version="…" revisionDate="2023-07-07T00:00:00+01:00"
                [dateFin="yyyymmddhhmmss"]>
        <ConceptList>
          <Concept code="…" codeSystem="OID" displayName="label" [dateFin=""] [dateValid="…"]/>

Variants met in the official files: the NOS "TABS" exports name the value set
``JDV_….tabs`` (the suffix is dropped), carry no ``version`` and no ``dateFin`` on concepts
but may carry one on the value set; ``dateFin`` is often present and empty. One official
file lists the same placeholder code twice: later duplicates are skipped with a warning.
Two files hold a single « à compléter » concept with ``code=""`` and ``codeSystem=""``: such
placeholders are skipped with a warning (the value set is imported empty), whereas a concept
with no ``code`` attribute, or an empty code with a code system, is an error.

Nothing here touches the database: a file is parsed and checked completely, and any problem
raises ``SvsError`` naming the file and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from lxml import etree

NS = "urn:ihe:iti:svs:2008"
_ROOT = f"{{{NS}}}RetrieveValueSetResponse"
_VALUE_SET = f"{{{NS}}}ValueSet"
_CONCEPT_LIST = f"{{{NS}}}ConceptList"
_CONCEPT = f"{{{NS}}}Concept"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

MAX_NAME = 80
MAX_OID = 64
MAX_VERSION = 40
MAX_CODE = 64
MAX_CODE_SYSTEM = 80
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))*$")
_SVS_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_LXML_POSITION = re.compile(r", line \d+, column \d+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class SvsError(Exception):
    """A file that cannot be imported; ``str()`` is the French message for the user."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path.name}, ligne {line}" if line else self.path.name
        super().__init__(f"{where} : {message}")


@dataclass(frozen=True)
class SvsConcept:
    code: str
    code_system: str
    label: str
    ends_at: datetime | None
    line: int


@dataclass
class SvsValueSet:
    path: Path
    name: str
    oid: str | None
    version: str | None
    revision_date: date | None
    ends_at: datetime | None
    concepts: list[SvsConcept]
    warnings: list[str] = field(default_factory=list)


def _parser() -> etree.XMLParser:
    # No DTD, no entity expansion, no network: the files are data, never instructions.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )


def _text_attr(element, name: str) -> str:
    return " ".join((element.get(name) or "").split())


def _svs_datetime(raw: str, path: Path, line: int, what: str) -> datetime | None:
    """'20241213120000' or '20241213' (empty → None)."""
    raw = raw.strip()
    if not raw:
        return None
    match = _SVS_DATE.match(raw)
    try:
        if not match:
            raise ValueError(raw)
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise SvsError(
            path, line, f"{what} « {raw} » invalide (format attendu : aaaammjj[hhmmss])"
        ) from None


def _iso_date(raw: str, path: Path, line: int) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    match = _ISO_DATE.match(raw)
    try:
        if not match:
            raise ValueError(raw)
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise SvsError(
            path, line, f"date de révision « {raw} » invalide (format attendu : aaaa-mm-jj…)"
        ) from None


def _check_length(value: str, limit: int, path: Path, line: int, what: str) -> None:
    if len(value) > limit:
        raise SvsError(path, line, f"{what} trop long ({len(value)} caractères, {limit} au plus)")


def parse_file(path: Path | str) -> SvsValueSet:
    path = Path(path)
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno or (error.position[0] if error.position else None)
        detail = _LXML_POSITION.sub("", error.msg or "")
        raise SvsError(path, line, f"XML mal formé ({detail})") from None
    except OSError as error:
        raise SvsError(path, None, f"lecture impossible ({error.strerror or error})") from None
    root = tree.getroot()
    if root.tag != _ROOT:
        raise SvsError(
            path,
            root.sourceline,
            f"élément racine « {etree.QName(root).localname} » inattendu "
            f"(attendu : RetrieveValueSetResponse, espace de noms {NS})",
        )
    value_sets = root.findall(_VALUE_SET)
    if not value_sets:
        raise SvsError(path, root.sourceline, "élément ValueSet absent")
    if len(value_sets) > 1:
        raise SvsError(path, value_sets[1].sourceline, "un seul élément ValueSet est attendu")
    return _value_set(path, value_sets[0])


def _value_set(path: Path, element) -> SvsValueSet:
    line = element.sourceline
    name = _text_attr(element, "displayName")
    name = name.removesuffix(".tabs")
    if not name:
        raise SvsError(path, line, "ValueSet sans nom (attribut displayName)")
    if not _NAME.match(name):
        raise SvsError(path, line, f"nom de jeu de valeurs « {name} » invalide")
    _check_length(name, MAX_NAME, path, line, "nom du jeu de valeurs")
    oid = _text_attr(element, "id")
    if not oid:
        raise SvsError(path, line, "ValueSet sans identifiant (attribut id, un OID)")
    if not _OID.match(oid):
        raise SvsError(path, line, f"identifiant « {oid} » invalide (un OID est attendu)")
    _check_length(oid, MAX_OID, path, line, "identifiant (OID) du jeu de valeurs")
    version = _text_attr(element, "version") or None
    if version:
        _check_length(version, MAX_VERSION, path, line, "version du jeu de valeurs")
    result = SvsValueSet(
        path=path,
        name=name,
        oid=oid,
        version=version,
        revision_date=_iso_date(element.get("revisionDate") or "", path, line),
        ends_at=_svs_datetime(element.get("dateFin") or "", path, line, "date de fin"),
        concepts=[],
    )
    concept_list = _concept_list(element)
    if concept_list is None:
        raise SvsError(path, line, "élément ConceptList absent")
    concepts = concept_list.findall(_CONCEPT)
    if not concepts:
        raise SvsError(path, concept_list.sourceline, "ConceptList ne contient aucun concept")
    seen: dict[str, int] = {}
    for concept in concepts:
        if _is_placeholder(concept):
            result.warnings.append(
                f"{path.name}, ligne {concept.sourceline} : concept sans code ni système de "
                f"codage (« {_text_attr(concept, 'displayName')} »), ignoré"
            )
            continue
        parsed = _concept(path, concept)
        if parsed.code in seen:
            result.warnings.append(
                f"{path.name}, ligne {parsed.line} : code « {parsed.code} » déjà présent "
                f"ligne {seen[parsed.code]}, occurrence ignorée"
            )
            continue
        seen[parsed.code] = parsed.line
        result.concepts.append(parsed)
    return result


def _concept_list(value_set):
    """The French list when the file has one per language (xml:lang), else the first."""
    lists = value_set.findall(_CONCEPT_LIST)
    for concept_list in lists:
        if (concept_list.get(_XML_LANG) or "").lower().startswith("fr"):
            return concept_list
    return lists[0] if lists else None


def _is_placeholder(element) -> bool:
    """code="" and codeSystem="" both present and empty: the CI-SIS's « à compléter » entry
    of a value set not yet defined (JDV_Evaluation_AGGIR_*). An absent code is an error."""
    return (
        element.get("code") is not None
        and element.get("codeSystem") is not None
        and not element.get("code").strip()
        and not element.get("codeSystem").strip()
    )


def _concept(path: Path, element) -> SvsConcept:
    line = element.sourceline
    code = _text_attr(element, "code")
    system = _text_attr(element, "codeSystem")
    label = _text_attr(element, "displayName")
    if not code:
        raise SvsError(path, line, "concept sans code (attribut code)")
    if not system:
        raise SvsError(path, line, f"concept « {code} » sans système de codage (codeSystem)")
    if not label:
        raise SvsError(path, line, f"concept « {code} » sans libellé (displayName)")
    _check_length(code, MAX_CODE, path, line, f"code « {code[:20]}… »")
    _check_length(system, MAX_CODE_SYSTEM, path, line, f"système de codage du concept « {code} »")
    ends_at = _svs_datetime(element.get("dateFin") or "", path, line, "date de fin")
    return SvsConcept(code=code, code_system=system, label=label, ends_at=ends_at, line=line)
