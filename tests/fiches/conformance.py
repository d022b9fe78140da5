"""Conformance checks of CDA documents against the official ANS CI-SIS files.

The ANS ships its rules as ISO Schematron with the XSLT 2 query binding, which nothing on PyPI
runs directly: lxml's isoschematron refuses XSLT 2 and pyschematron (0.1.0, the only version
the index serves) is an empty placeholder. So each schema goes through the ISO reference
pipeline that lxml ships (include resolution, abstract-pattern expansion, compilation to an
SVRL-producing stylesheet); those steps only move XML around, so XSLT 1 is enough for them.
The compiled stylesheet is then run by Saxon (saxonche), after raising its declared version to
2.0 so that the XPath 2 expressions it carries get their real semantics.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import lxml.isoschematron
from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

SVRL = "http://purl.oclc.org/dsdl/svrl"
XSLT_NS = "http://www.w3.org/1999/XSL/Transform"
SCHEMATRONS = (
    "CI-SIS_CANCER-FRCP_2022.01.sch",
    "profils/CI-SIS_Modeles_ANS.sch",
    "profils/IHE.sch",
)
# Schematron roles that do not mean an error; the ANS files set none today.
NON_ERROR_ROLES = {"warning", "warn", "info", "information"}

# The compiled stylesheets spell each path step namespace-neutrally; keep just the names.
_LOCATION_STEP = re.compile(r"\*\[local-name\(\)='([^']+)' and namespace-uri\(\)='[^']*'\]")
_ISO_XSL = Path(lxml.isoschematron.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"


def ans_cisis_dir() -> Path:
    """The ANS reference folder, next to the repository unless RCP_ANS_CISIS_DIR says otherwise."""
    configured = os.environ.get("RCP_ANS_CISIS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "ans-cisis"


@functools.cache
def _xsd() -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(ans_cisis_dir() / "infrastructure/cda/CDA_extended.xsd"))
    )


def xsd_errors(xml: bytes) -> list[str]:
    """Messages of every CDA_extended.xsd violation; empty when the document is valid."""
    schema = _xsd()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"ligne {error.line} : {error.message}" for error in schema.error_log]


@functools.cache
def _iso_step(name: str) -> etree.XSLT:
    return etree.XSLT(etree.parse(str(_ISO_XSL / name)))


def compile_schematron(sch_path: Path) -> bytes:
    """ISO Schematron -> XSLT text, with document() resolved relative to the .sch file."""
    schema = _iso_step("iso_dsdl_include.xsl")(etree.parse(str(sch_path)))
    schema = _iso_step("iso_abstract_expand.xsl")(schema)
    # The XSLT 1 compiler rejects the "xslt2" binding by name only; the expressions are copied
    # through untouched and Saxon evaluates them as XPath 2 thanks to version="2.0" below.
    schema.getroot().set("queryBinding", "xslt")
    stylesheet = _iso_step("iso_svrl_for_xslt1.xsl")(schema).getroot()
    stylesheet.set("version", "2.0")
    # Value-set paths such as '../jeuxDeValeurs/X.xml' are relative to the schematron file.
    stylesheet.set("{http://www.w3.org/XML/1998/namespace}base", sch_path.as_uri())
    return etree.tostring(stylesheet)


@functools.cache
def _saxon():
    processor = PySaxonProcessor(license=False)
    # Saxon 13's loop-lifting optimiser crashes on the generated stylesheets (bad parent
    # pointer); they are small enough to run unoptimised.
    processor.set_configuration_property("http://saxon.sf.net/feature/optimizationLevel", "0")
    return processor


@functools.cache
def _executable(name: str):
    """One schematron compiled once per session, whichever document type asks for it."""
    compiler = _saxon().new_xslt30_processor()
    sch_path = ans_cisis_dir() / "schematrons" / name
    return compiler.compile_stylesheet(stylesheet_text=compile_schematron(sch_path).decode())


def _svrl_failures(schematron: str, svrl: etree._Element) -> list[str]:
    failures = []
    for finding in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        if (finding.get("role") or "").lower() in NON_ERROR_ROLES:
            continue
        message = " ".join("".join(finding.itertext()).split())
        location = _LOCATION_STEP.sub(r"\1", finding.get("location") or "")
        failures.append(f"{schematron} @ {location} : {message}")
    return failures


def schematron_failures(xml: bytes, schematrons: tuple[str, ...] = SCHEMATRONS) -> list[str]:
    """Every failed assert and error report of the given schematrons (paths under
    schematrons/), by default the FRCP, ANS-models and IHE ones."""
    processor = _saxon()
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    failures = []
    for name in schematrons:
        try:
            svrl = _executable(name).transform_to_string(xdm_node=document)
        except PySaxonApiError as error:
            # A rule that cannot be evaluated on this document proves nothing: report it.
            failures.append(f"{name} : évaluation impossible : {error}")
            continue
        failures.extend(_svrl_failures(name, etree.fromstring(svrl.encode("utf-8"))))
    return failures
