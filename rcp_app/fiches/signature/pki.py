"""Test PKI for sealing the fiches in development, demonstrations and tests.

Everything produced here is clearly labelled as test material: a production deployment uses a
seal certificate issued by a real certification authority, never these files.

Files are created only when absent and never overwritten, so that documents sealed earlier keep
verifying against the same test CA. Secrets (CA key, PKCS#12 seal, passphrase) are written with
mode 600 from the start (no window where they would be world-readable).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CA_CERT_FILE = "test-ca.pem"
CA_KEY_FILE = "test-ca-key.pem"
SEAL_P12_FILE = "test-seal.p12"
PASSPHRASE_FILE = "test-seal.passphrase"  # noqa: S105 (a file name, not a secret)

TEST_CA_NAME = "RCP TEST CA — NE PAS UTILISER EN PRODUCTION"
SEAL_COMMON_NAME = "Cachet RCP (TEST)"
DEFAULT_ORGANISATION = "Établissement de test RCP (NE PAS UTILISER EN PRODUCTION)"

RSA_KEY_SIZE = 3072
CA_VALIDITY = dt.timedelta(days=3650)
SEAL_VALIDITY = dt.timedelta(days=1095)
# Certificates start slightly in the past so that a clock a little behind still accepts them.
BACKDATE = dt.timedelta(hours=1)


class TestPkiError(Exception):
    """The test PKI directory is in a state that cannot be completed without overwriting."""

    __test__ = False  # not a pytest test class despite its name


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # not a pytest test class despite its name

    ca_cert_path: Path
    p12_path: Path
    passphrase_path: Path
    passphrase: bytes


def generate_test_pki(directory: Path, *, organisation: str = DEFAULT_ORGANISATION) -> TestPki:
    """Create (if absent) a test CA and an organisation seal in ``directory``; idempotent."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_or_create_ca(directory)
    passphrase = _load_or_create_passphrase(directory)
    p12_path = directory / SEAL_P12_FILE
    if not p12_path.exists():
        p12_bytes = _build_seal_p12(ca_cert, ca_key, organisation, passphrase)
        _write_new_file(p12_path, p12_bytes, secret=True)
    return TestPki(
        ca_cert_path=directory / CA_CERT_FILE,
        p12_path=p12_path,
        passphrase_path=directory / PASSPHRASE_FILE,
        passphrase=passphrase,
    )


def read_passphrase(path: Path) -> bytes:
    """Passphrase file content, without the trailing newline an editor may have added."""
    return Path(path).read_bytes().rstrip(b"\r\n")


def new_rsa_key(key_size: int = RSA_KEY_SIZE) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def build_ca_certificate(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    """Self-signed CA certificate (also used by the tests for other, untrusted CAs)."""
    name = _test_name(common_name, organisation=common_name)
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def build_seal_certificate(
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    seal_key: rsa.RSAPrivateKey,
    organisation: str,
) -> x509.Certificate:
    """Organisation seal: signs documents only (digitalSignature + nonRepudiation)."""
    now = _now()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_test_name(SEAL_COMMON_NAME, organisation=organisation))
        .issuer_name(ca_cert.subject)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + SEAL_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    return builder.sign(ca_key, hashes.SHA256())


def build_p12(
    cert: x509.Certificate,
    key: rsa.RSAPrivateKey | None,
    chain: list[x509.Certificate],
    passphrase: bytes,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        name=SEAL_COMMON_NAME.encode(),
        key=key,
        cert=cert,
        cas=chain or None,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )


def _load_or_create_ca(directory: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return cert, key
    if cert_path.exists() or key_path.exists():
        # Recreating only one half would silently invalidate every document sealed so far.
        raise TestPkiError(
            f"PKI de test incomplète dans {directory} : {CA_CERT_FILE} et {CA_KEY_FILE} "
            "doivent être présents ensemble (supprimez le dossier pour la régénérer)."
        )
    key = new_rsa_key()
    cert = build_ca_certificate(key, TEST_CA_NAME)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new_file(key_path, key_pem, secret=True)
    _write_new_file(cert_path, cert.public_bytes(serialization.Encoding.PEM), secret=False)
    return cert, key


def _load_or_create_passphrase(directory: Path) -> bytes:
    path = directory / PASSPHRASE_FILE
    if path.exists():
        return read_passphrase(path)
    if (directory / SEAL_P12_FILE).exists():
        raise TestPkiError(
            f"{SEAL_P12_FILE} existe dans {directory} mais pas {PASSPHRASE_FILE} : "
            "impossible de l'ouvrir (supprimez le dossier pour régénérer la PKI de test)."
        )
    passphrase = secrets.token_urlsafe(32).encode("ascii")
    _write_new_file(path, passphrase + b"\n", secret=True)
    return passphrase


def _build_seal_p12(
    ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, organisation: str, passphrase: bytes
) -> bytes:
    seal_key = new_rsa_key()
    seal_cert = build_seal_certificate(ca_cert, ca_key, seal_key, organisation)
    return build_p12(seal_cert, seal_key, [ca_cert], passphrase)


def _write_new_file(path: Path, data: bytes, *, secret: bool) -> None:
    # O_EXCL: never overwrite, even if another process created the file meanwhile.
    mode = 0o600 if secret else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have removed bits from a public file; keep it exact


def _test_name(common_name: str, *, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "TEST — NE PAS UTILISER"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
