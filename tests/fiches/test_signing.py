"""Sealing of the fiche PDFs (PAdES) and verification, including tampering detection.

The PDFs are real WeasyPrint PDF/A-3b documents, sealed with a test PKI generated once per
module; verification is cross-checked with pyHanko's validator and with poppler's pdfsig.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
import stat
import subprocess
import warnings
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from rcp_app.fiches.signature import pki as signing_pki
from rcp_app.fiches.signature.pades import (
    Sealer,
    SealingError,
    SigningConfigurationError,
    load_sealer,
    load_trust_roots,
    verify_pdf,
)
from rcp_app.fiches.signature.verify import (
    BAD_TIMESTAMP,
    INVALID_SIGNATURE,
    MODIFIED,
    NO_SIGNATURE,
    NOT_A_PDF,
    UNREADABLE_SIGNATURE,
    UNTRUSTED_SIGNER,
)
from tests.fiches.tsa import running_tsa

PDFSIG = "/usr/bin/pdfsig"
ORGANISATION = "Centre hospitalier de Valmont (TEST)"
REASON = "Fiche RCP validée"
LOCATION = "Valmont"
FICHE_HTML = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Fiche RCP — test</title>
<style>body { font-family: sans-serif; }</style></head>
<body><h1>Fiche RCP</h1><p>Proposition thérapeutique : chirurgie puis surveillance.</p></body>
</html>"""


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> signing_pki.TestPki:
    return signing_pki.generate_test_pki(tmp_path_factory.mktemp("pki"), organisation=ORGANISATION)


@pytest.fixture(scope="module")
def trust_roots(pki):
    return load_trust_roots([pki.ca_cert_path])


@pytest.fixture(scope="module")
def sealer(pki):
    return load_sealer(pki.p12_path, pki.passphrase)


@pytest.fixture(scope="module")
def fiche_pdf() -> bytes:
    return render_pdf(FICHE_HTML)


@pytest.fixture(scope="module")
def sealed_pdf(sealer, fiche_pdf) -> bytes:
    return sealer.sign(fiche_pdf, reason=REASON, location=LOCATION)


def render_pdf(html: str) -> bytes:
    import weasyprint

    # WeasyPrint 70 leaves its sRGB profile file to the garbage collector (ResourceWarning,
    # an error under this project's warning filter); it is not what these tests check.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")
        gc.collect()
    return pdf


def only_signature(pdf: bytes):
    signatures = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures
    assert len(signatures) == 1
    return signatures[0]


def pyhanko_status(pdf: bytes, roots):
    roots = [as_asn1(root) for root in roots]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    return validate_pdf_signature(only_signature(pdf), signer_validation_context=context)


def as_asn1(certificate):
    if isinstance(certificate, x509.Certificate):
        der = certificate.public_bytes(serialization.Encoding.DER)
        return asn1_x509.Certificate.load(der)
    return certificate


def other_ca_p12(directory: Path, *, with_key: bool = True) -> tuple[Path, x509.Certificate]:
    """A seal issued by another (untrusted) test CA; smaller keys keep the test fast."""
    ca_key = signing_pki.new_rsa_key(2048)
    ca_cert = signing_pki.build_ca_certificate(ca_key, "AUTRE CA DE TEST — NON RECONNUE")
    seal_key = signing_pki.new_rsa_key(2048)
    seal_cert = signing_pki.build_seal_certificate(ca_cert, ca_key, seal_key, "Autre organisme")
    p12 = signing_pki.build_p12(seal_cert, seal_key if with_key else None, [ca_cert], b"autre")
    path = directory / ("other.p12" if with_key else "no-key.p12")
    path.write_bytes(p12)
    return path, ca_cert


# --- test PKI -------------------------------------------------------------------------------


def test_test_pki_files_are_test_material_with_private_secrets(pki):
    ca = x509.load_pem_x509_certificate(pki.ca_cert_path.read_bytes())
    assert "NE PAS UTILISER EN PRODUCTION" in ca.subject.rfc4514_string()
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for secret in (pki.p12_path, pki.passphrase_path, pki.ca_cert_path.parent / "test-ca-key.pem"):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert pki.p12_path.name == "test-seal.p12"
    assert pki.passphrase_path.read_bytes().strip() == pki.passphrase

    key, seal, chain = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.passphrase)
    assert key.key_size == 3072
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
        "Cachet RCP (TEST)"
    )
    organisation = seal.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0]
    assert organisation.value == ORGANISATION
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert seal.issuer == ca.subject
    assert chain == [ca]


def test_generate_test_pki_is_idempotent(pki):
    files = sorted(pki.ca_cert_path.parent.iterdir())
    before = {path: path.read_bytes() for path in files}

    again = signing_pki.generate_test_pki(pki.ca_cert_path.parent, organisation="Autre nom")

    assert again == pki
    assert sorted(pki.ca_cert_path.parent.iterdir()) == files
    assert {path: path.read_bytes() for path in files} == before


def test_generate_test_pki_refuses_to_complete_a_half_ca(tmp_path):
    (tmp_path / "test-ca.pem").write_bytes(b"existing")
    with pytest.raises(signing_pki.TestPkiError):
        signing_pki.generate_test_pki(tmp_path)
    assert (tmp_path / "test-ca.pem").read_bytes() == b"existing"


# --- sealing and verification ---------------------------------------------------------------


def test_sealed_fiche_is_authentic(sealed_pdf, fiche_pdf, trust_roots, sealer):
    before = dt.datetime.now(dt.UTC)
    report = verify_pdf(sealed_pdf, trust_roots)

    assert report.problems == []
    assert report.authentic and report.signed and report.intact
    assert report.valid and report.trusted
    assert not report.modified_after_signing
    assert not report.timestamped
    assert report.signer_name == f"Cachet RCP (TEST) — {ORGANISATION}"
    assert "Cachet RCP (TEST)" in sealer.certificate_subject
    assert report.signed_at.tzinfo is not None
    assert before - dt.timedelta(minutes=10) < report.signed_at <= before
    # Incremental update only: the bytes WeasyPrint produced are left exactly as they were.
    assert sealed_pdf.startswith(fiche_pdf)


def test_pyhanko_validator_accepts_a_pades_b_b_seal(sealed_pdf, trust_roots):
    status = pyhanko_status(sealed_pdf, trust_roots)

    assert status.bottom_line
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.timestamp_validity is None  # B-B: no signature timestamp

    signature = only_signature(sealed_pdf)
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == REASON
    assert signature.sig_object["/Location"] == LOCATION
    signed_attrs = signature.signer_info["signed_attrs"]
    assert "signing_certificate_v2" in {attr["type"].native for attr in signed_attrs}
    certificates = signature.signed_data["certificates"]
    embedded = {choice.chosen.subject.native["common_name"] for choice in certificates}
    assert embedded == {"Cachet RCP (TEST)", signing_pki.TEST_CA_NAME}


def test_sealing_leaves_the_pdfa_metadata_untouched(sealed_pdf, fiche_pdf):
    original, sealed = (PdfFileReader(BytesIO(pdf)) for pdf in (fiche_pdf, sealed_pdf))

    assert dict(sealed.trailer["/Info"]) == dict(original.trailer["/Info"])
    assert sealed.root["/Metadata"].data == original.root["/Metadata"].data
    assert b"pdfaid:part" in sealed.root["/Metadata"].data


def test_signature_widget_is_invisible_yet_pdfa_compliant(sealed_pdf):
    page = PdfFileReader(BytesIO(sealed_pdf)).root["/Pages"]["/Kids"][0]
    (widget,) = [annot.get_object() for annot in page["/Annots"]]

    assert widget["/FT"] == "/Sig" and widget["/Subtype"] == "/Widget"
    # PDF/A 6.3.3-1: a zero-size annotation needs no appearance stream.
    assert [float(n) for n in widget["/Rect"]] == [0, 0, 0, 0]
    # PDF/A 6.3.2: Print flag set; Hidden, Invisible, NoView and ToggleNoView cleared.
    flags = int(widget["/F"])
    assert flags & 4 and not flags & (1 | 2 | 32 | 256)


def test_the_private_key_is_parsed_once_not_per_signature(monkeypatch, pki, sealer, fiche_pdf):
    def refuse(*args, **kwargs):
        raise AssertionError("private key parsed again while signing")

    slow_sealer = Sealer(SimpleSigner.load_pkcs12(str(pki.p12_path), passphrase=pki.passphrase))
    monkeypatch.setattr(serialization, "load_der_private_key", refuse)

    assert sealer.sign(fiche_pdf, reason=REASON, location=LOCATION).startswith(fiche_pdf)
    # Control: pyHanko's SimpleSigner does parse it for each signature (~250 ms for RSA-3072).
    with pytest.raises(SealingError) as failure:
        slow_sealer.sign(fiche_pdf, reason=REASON, location=LOCATION)
    assert "parsed again" in str(failure.value.__cause__)


def test_pdfsig_validates_the_whole_document(sealed_pdf, pki, tmp_path):
    assert Path(PDFSIG).exists(), "poppler-utils (pdfsig) is required by these tests"
    pdf_path = tmp_path / "fiche.pdf"
    pdf_path.write_bytes(sealed_pdf)

    output = run_pdfsig(pdf_path, pki.ca_cert_path, tmp_path)

    assert "Signature Validation: Signature is Valid." in output
    assert "Total document signed" in output
    assert "Signature Type: ETSI.CAdES.detached" in output
    assert "Signer Certificate Common Name: Cachet RCP (TEST)" in output
    assert "Certificate Validation: Certificate is Trusted." in output


def test_pdfsig_does_not_trust_the_seal_without_its_ca(sealed_pdf, tmp_path):
    pdf_path = tmp_path / "fiche.pdf"
    pdf_path.write_bytes(sealed_pdf)
    env = {**os.environ, "HOME": str(tmp_path)}
    output = subprocess.run(
        [PDFSIG, str(pdf_path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert "Signature Validation: Signature is Valid." in output.stdout
    assert "Certificate Validation: Certificate issuer isn't Trusted." in output.stdout


def run_pdfsig(pdf_path: Path, ca_cert_path: Path, tmp_path: Path) -> str:
    """pdfsig with an NSS trust store holding only the test CA (certutil: libnss3-tools)."""
    certutil = shutil.which("certutil")
    assert certutil, "certutil (Debian package libnss3-tools) is required by these tests"
    nss_dir = tmp_path / "nssdb"
    nss_dir.mkdir()
    database = f"sql:{nss_dir}"
    subprocess.run([certutil, "-N", "-d", database, "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-d", database, "-n", "rcp-test-ca", "-t", "C,C,C"]
        + ["-i", str(ca_cert_path)],
        check=True,
    )
    command = [PDFSIG, "-nssdir", database]
    env = {**os.environ, "HOME": str(tmp_path)}  # never read the developer's own NSS store
    result = subprocess.run(
        [*command, str(pdf_path)], capture_output=True, text=True, env=env, timeout=60
    )
    return result.stdout + result.stderr


# --- tampering ------------------------------------------------------------------------------


def test_a_changed_byte_in_the_signed_range_is_detected(sealed_pdf, trust_roots, tmp_path):
    # Second line of the PDF: the binary comment, inside the first signed range; changing it
    # keeps the file parseable, so only the signature can tell.
    position = sealed_pdf.index(b"\n") + 2
    tampered = bytearray(sealed_pdf)
    tampered[position] ^= 0x01

    report = verify_pdf(bytes(tampered), trust_roots)

    assert not report.authentic
    assert report.signed and not report.intact
    assert report.modified_after_signing
    assert MODIFIED in report.problems
    assert not pyhanko_status(bytes(tampered), trust_roots).bottom_line

    pdf_path = tmp_path / "tampered.pdf"
    pdf_path.write_bytes(bytes(tampered))
    output = subprocess.run([PDFSIG, str(pdf_path)], capture_output=True, text=True).stdout
    assert "Signature Validation: Digest Mismatch." in output


def test_a_page_appended_after_signing_is_detected(sealed_pdf, trust_roots):
    tampered = append_page(sealed_pdf)
    assert tampered.startswith(sealed_pdf)  # a genuine incremental update

    report = verify_pdf(tampered, trust_roots)

    assert len(PdfFileReader(BytesIO(tampered)).root["/Pages"]["/Kids"]) == 2
    assert not report.authentic
    assert report.intact  # the signed bytes themselves are untouched...
    assert report.modified_after_signing  # ...but the document shown is not the one signed
    assert MODIFIED in report.problems
    status = pyhanko_status(tampered, trust_roots)
    assert status.coverage != SignatureCoverageLevel.ENTIRE_FILE
    assert not status.bottom_line


def append_page(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    content = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 72 72 144 144 re f"))
    page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, 595, 842)]
            ),
            generic.pdf_name("/Resources"): generic.DictionaryObject(),
            generic.pdf_name("/Contents"): content,
        }
    )
    writer.insert_page(page)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def test_a_seal_from_another_ca_is_not_trusted(fiche_pdf, trust_roots, tmp_path):
    p12_path, other_ca = other_ca_p12(tmp_path)
    foreign = load_sealer(p12_path, "autre").sign(fiche_pdf, reason=REASON, location=LOCATION)

    report = verify_pdf(foreign, trust_roots)

    assert not report.authentic
    assert report.intact and report.valid and not report.trusted
    assert not report.modified_after_signing
    assert report.problems == [UNTRUSTED_SIGNER]
    assert report.signer_name == "Cachet RCP (TEST) — Autre organisme"
    # Control: the same document is authentic for whoever trusts that other CA.
    assert verify_pdf(foreign, [other_ca]).authentic


def test_an_unsigned_pdf_is_not_authentic(fiche_pdf, trust_roots):
    report = verify_pdf(fiche_pdf, trust_roots)

    assert not report.authentic and not report.signed
    assert report.problems == [NO_SIGNATURE]


@pytest.mark.parametrize(
    "make_input",
    [
        pytest.param(lambda pdf: b"", id="empty"),
        pytest.param(lambda pdf: b"Ceci n'est pas un PDF.", id="text"),
        pytest.param(lambda pdf: bytes(range(256)) * 40, id="binary"),
        pytest.param(lambda pdf: b"%PDF-1.7\n%%EOF\n", id="header-only"),
        pytest.param(lambda pdf: pdf[: len(pdf) // 2], id="truncated-half"),
        pytest.param(lambda pdf: pdf[:-40], id="truncated-trailer"),
    ],
)
def test_garbage_input_gives_a_french_problem_and_never_raises(make_input, sealed_pdf, trust_roots):
    report = verify_pdf(make_input(sealed_pdf), trust_roots)

    assert not report.authentic and not report.signed
    assert report.problems == [NOT_A_PDF]


def test_a_corrupted_signature_container_is_reported_not_raised(sealed_pdf, trust_roots):
    start = sealed_pdf.index(b"/Contents <") + len(b"/Contents <")
    corrupted = sealed_pdf[:start] + b"0" * 40 + sealed_pdf[start + 40 :]

    report = verify_pdf(corrupted, trust_roots)

    assert not report.authentic and report.signed
    assert report.problems == [UNREADABLE_SIGNATURE]


def test_an_altered_signature_value_is_invalid(sealed_pdf, trust_roots):
    # The RSA signature value ends the CMS blob, just before the hexadecimal zero padding.
    end = sealed_pdf.index(b"0" * 64, sealed_pdf.index(b"/Contents <"))
    position = end - 8
    altered = bytearray(sealed_pdf)
    altered[position] = ord("1") if altered[position] != ord("1") else ord("2")

    report = verify_pdf(bytes(altered), trust_roots)

    assert not report.authentic
    assert report.intact and not report.valid
    assert report.problems == [INVALID_SIGNATURE]


# --- B-T: signature timestamp from a real RFC 3161 endpoint ---------------------------------


def test_b_t_seal_carries_a_trusted_timestamp(pki, fiche_pdf, trust_roots):
    with running_tsa() as tsa:
        sealer = load_sealer(pki.p12_path, pki.passphrase, timestamp_url=tsa.url)
        sealed = sealer.sign(fiche_pdf, reason=REASON, location=LOCATION)
    roots = [*trust_roots, tsa.root_certificate]

    report = verify_pdf(sealed, roots)

    assert report.problems == []
    assert report.authentic and report.timestamped
    assert tsa.issued_times, "the sealer never called the time-stamping service"
    assert report.signed_at == tsa.issued_times[-1]
    assert report.signed_at.tzinfo is not None
    status = pyhanko_status(sealed, roots)
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.timestamp_validity.timestamp == tsa.issued_times[-1]

    # Without the TSA root the timestamp cannot be trusted, hence neither the document.
    untrusted_tsa = verify_pdf(sealed, trust_roots)
    assert not untrusted_tsa.authentic and not untrusted_tsa.timestamped
    assert BAD_TIMESTAMP in untrusted_tsa.problems


def test_unreachable_time_stamping_service_fails_the_seal(pki, fiche_pdf):
    with running_tsa() as tsa:
        url = tsa.url  # the port is free again once the service has stopped
    sealer = load_sealer(pki.p12_path, pki.passphrase, timestamp_url=url)

    with pytest.raises(SealingError, match="horodatage"):
        sealer.sign(fiche_pdf, reason=REASON, location=LOCATION)


# --- configuration errors -------------------------------------------------------------------


def test_wrong_passphrase_is_a_configuration_error(pki):
    with pytest.raises(SigningConfigurationError, match="phrase secrète incorrecte"):
        load_sealer(pki.p12_path, b"pas la bonne")


def test_missing_p12_is_a_configuration_error(tmp_path):
    with pytest.raises(SigningConfigurationError, match="introuvable"):
        load_sealer(tmp_path / "absent.p12", b"x")


def test_p12_without_private_key_is_a_configuration_error(tmp_path):
    p12_path, _ = other_ca_p12(tmp_path, with_key=False)
    with pytest.raises(SigningConfigurationError, match="ne contient pas de clé privée"):
        load_sealer(p12_path, b"autre")


def test_passphrase_may_be_given_as_text(pki):
    sealer = load_sealer(pki.p12_path, pki.passphrase.decode())
    assert "Cachet RCP (TEST)" in sealer.certificate_subject


def test_sealing_garbage_raises_a_sealing_error(sealer):
    with pytest.raises(SealingError, match="PDF"):
        sealer.sign(b"pas un PDF", reason=REASON, location=LOCATION)


def test_p12_files_are_readable_by_pyca_and_pem_ca_is_public(pki):
    # The CA certificate is meant to be distributed to verifiers; only secrets are 600.
    assert stat.S_IMODE(pki.ca_cert_path.stat().st_mode) == 0o644
    ca = x509.load_pem_x509_certificate(pki.ca_cert_path.read_bytes())
    assert ca.public_bytes(serialization.Encoding.PEM) == pki.ca_cert_path.read_bytes()
