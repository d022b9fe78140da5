"""Electronic seal (PAdES) of the RCP fiches, with pyHanko.

The organisation seals each fiche PDF (PDF/A-3b produced by WeasyPrint) with its seal
certificate: PAdES baseline B-B, or B-T when a time-stamping authority is configured. The
signature is appended as an incremental update, so the signed bytes are exactly the PDF
WeasyPrint produced.

Verification lives in :mod:`rcp_app.fiches.signature.verify` (re-exported here).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from .sync import outside_event_loop
from .verify import SignatureReport, load_trust_roots, verify_pdf

__all__ = [
    "DEFAULT_FIELD_NAME",
    "Sealer",
    "SealingError",
    "SignatureReport",
    "SigningConfigurationError",
    "load_sealer",
    "load_trust_roots",
    "verify_pdf",
]

DEFAULT_FIELD_NAME = "SignatureRCP"
DIGEST_ALGORITHM = "sha256"
TIMESTAMP_TIMEOUT_SECONDS = 10


class SigningConfigurationError(Exception):
    """The seal (PKCS#12 file, passphrase) cannot be used; the message is for an administrator."""


class SealingError(Exception):
    """Sealing one document failed (unreadable PDF, unreachable time-stamping service...)."""


class _PreloadedKeySigner(signers.Signer):
    """pyHanko signer holding an already parsed private key.

    pyHanko's SimpleSigner keeps the key as DER and parses it again (with cryptography's slow
    RSA consistency check) for every raw signature, twice per PDF because of the
    size-estimating dry run: about 245 ms per RSA-3072 seal. Parsed once at load time, a seal
    takes about 22 ms (measured on the development machine).
    """

    def __init__(self, *, private_key, signing_cert, cert_registry):
        super().__init__(signing_cert=signing_cert, cert_registry=cert_registry)
        self._private_key = private_key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism.signature_algo
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if algorithm == "rsassa_pkcs1v15":
            return self._private_key.sign(data, padding.PKCS1v15(), hash_algorithm)
        if algorithm == "ecdsa":
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        raise SealingError(f"Mécanisme de signature non pris en charge : {algorithm}.")


class _MetadataPreservingWriter(IncrementalPdfFileWriter):
    """Incremental writer that leaves the Info dictionary and the XMP metadata untouched.

    pyHanko otherwise appends itself to the Info producer but writes only itself into the XMP
    producer, and re-serialises the XMP packet (which can even produce invalid RDF, pyHanko
    issue #755): either breaks the Info/XMP equivalence PDF/A requires. Adding a signature
    does not change the document's content, so the metadata WeasyPrint wrote stays accurate.
    Overriding ``_update_meta`` is the opt-out pyHanko's maintainer suggests (issue #223);
    it is internal API, hence the pinned pyHanko version and the test on the metadata.
    """

    def _update_meta(self):
        pass


class Sealer:
    """Seals PDFs with one organisation certificate; build it once with :func:`load_sealer`."""

    def __init__(self, signer: signers.Signer, *, timestamper: TimeStamper | None = None):
        self._signer = signer
        self._timestamper = timestamper

    @property
    def certificate_subject(self) -> str:
        """Seal certificate subject as an RFC 4514 string ("CN=Cachet RCP,O=...,C=FR")."""
        der = self._signer.signing_cert.dump()
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()

    @property
    def timestamped(self) -> bool:
        return self._timestamper is not None

    def sign(
        self,
        pdf_bytes: bytes,
        *,
        reason: str,
        location: str,
        field_name: str = DEFAULT_FIELD_NAME,
    ) -> bytes:
        """Seal ``pdf_bytes``: the result is the input followed by one incremental update."""
        try:
            writer = _MetadataPreservingWriter(BytesIO(pdf_bytes))
        except Exception as exc:
            raise SealingError("Le document à signer n'est pas un PDF lisible.") from exc
        pdf_signer = signers.PdfSigner(
            self._signature_metadata(reason, location, field_name),
            signer=self._signer,
            timestamper=self._timestamper,
        )
        output = BytesIO()
        try:
            outside_event_loop(lambda: pdf_signer.sign_pdf(writer, output=output))
        except Exception as exc:
            raise SealingError(_sealing_failure_message(exc, self.timestamped)) from exc
        return output.getvalue()

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS signature (DER) of ``data``, time-stamped when a TSA is configured."""
        import asyncio

        try:
            content_info = outside_event_loop(
                lambda: asyncio.run(
                    self._signer.async_sign_general_data(
                        data, "sha256", detached=True, timestamper=self._timestamper
                    )
                )
            )
        except Exception as exc:
            raise SealingError(_sealing_failure_message(exc, self.timestamped)) from exc
        return content_info.dump()

    @staticmethod
    def _signature_metadata(reason, location, field_name) -> signers.PdfSignatureMetadata:
        return signers.PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            location=location,
            md_algorithm=DIGEST_ALGORITHM,
            # pyHanko defaults to adbe.pkcs7.detached; PAdES baselines require CAdES.
            subfilter=fields.SigSeedSubFilter.PADES,
            # B-B / B-T only: no revocation data to fetch, no document timestamp.
            embed_validation_info=False,
            use_pades_lta=False,
        )


def load_sealer(
    p12_path: Path | str,
    passphrase: bytes | str,
    *,
    timestamp_url: str | None = None,
) -> Sealer:
    """Load the seal from a PKCS#12 file; raises SigningConfigurationError if unusable."""
    private_key, certificate, chain = _load_pkcs12(Path(p12_path), passphrase)
    registry = SimpleCertificateStore()
    registry.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in chain])
    signer = _PreloadedKeySigner(
        private_key=private_key,
        signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
        cert_registry=registry,
    )
    timestamper = (
        HTTPTimeStamper(timestamp_url, timeout=TIMESTAMP_TIMEOUT_SECONDS) if timestamp_url else None
    )
    return Sealer(signer, timestamper=timestamper)


def _load_pkcs12(path: Path, passphrase: bytes | str):
    # Loaded with `cryptography` rather than SimpleSigner.load_pkcs12, which logs and returns
    # None on any failure: here each failure gets its own message for the administrator.
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SigningConfigurationError(f"Fichier du cachet introuvable : {path}.") from exc
    except OSError as exc:
        raise SigningConfigurationError(
            f"Fichier du cachet illisible : {path} ({exc.strerror})."
        ) from exc
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, passphrase or None)
    except ValueError as exc:
        raise SigningConfigurationError(
            f"Impossible d'ouvrir le fichier du cachet {path} : phrase secrète incorrecte "
            "ou fichier PKCS#12 invalide."
        ) from exc
    if key is None:
        raise SigningConfigurationError(
            f"Le fichier du cachet {path} ne contient pas de clé privée."
        )
    if certificate is None:
        raise SigningConfigurationError(
            f"Le fichier du cachet {path} ne contient pas le certificat du cachet."
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningConfigurationError(
            f"Type de clé du cachet non pris en charge ({type(key).__name__}) : "
            "RSA ou ECDSA attendu."
        )
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise SigningConfigurationError(
            f"Dans {path}, la clé privée ne correspond pas au certificat du cachet."
        )
    return key, certificate, list(chain)


def _sealing_failure_message(exc: Exception, timestamped: bool) -> str:
    if timestamped and _caused_by_timestamping(exc):
        return "Le service d'horodatage n'a pas pu être contacté : le document n'est pas signé."
    return "La signature électronique du document a échoué."


def _caused_by_timestamping(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, TimestampRequestError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
