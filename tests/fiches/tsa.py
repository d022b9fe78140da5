"""A real RFC 3161 time-stamping service on loopback, for the B-T seal tests.

pyHanko's DummyTimeStamper produces the tokens; this module puts it behind an HTTP endpoint so
that the sealer goes through its production code path (HTTPTimeStamper, a real POST of an
``application/timestamp-query``). The TSA has its own test root, distinct from the seal CA, so
tests can check that an untrusted timestamp is reported.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.sign.timestamps import DummyTimeStamper

from rcp_app.fiches.signature.pki import build_ca_certificate

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
# Test material only: smaller keys keep the fixture fast.
KEY_SIZE = 2048


@dataclass
class LoopbackTsa:
    url: str
    root_certificate: x509.Certificate
    issued_times: list[dt.datetime] = field(default_factory=list)


@contextmanager
def running_tsa() -> Iterator[LoopbackTsa]:
    """Serve a time-stamping authority on 127.0.0.1 (random port) for the ``with`` block."""
    root_key = _new_key()
    root_cert = build_ca_certificate(root_key, "RCP TEST TSA ROOT — NE PAS UTILISER")
    tsa_key = _new_key()
    tsa_cert = _tsa_certificate(root_cert, root_key, tsa_key)
    stamper = DummyTimeStamper(
        tsa_cert=translate_pyca_cryptography_cert_to_asn1(tsa_cert),
        tsa_key=translate_pyca_cryptography_key_to_asn1(tsa_key),
        certs_to_embed=[translate_pyca_cryptography_cert_to_asn1(root_cert)],
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(stamper))
    tsa = LoopbackTsa(url=f"http://127.0.0.1:{server.server_port}/tsa", root_certificate=root_cert)
    server.tsa = tsa
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits for one poll: keep tests fast
        name="test-tsa",
        daemon=True,
    )
    thread.start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _handler_class(stamper: DummyTimeStamper) -> type[BaseHTTPRequestHandler]:
    class TimestampHandler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            if self.headers.get("Content-Type") != QUERY_TYPE:
                self.send_error(415, "expected " + QUERY_TYPE)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            response = stamper.request_tsa_response(tsp.TimeStampReq.load(body))
            self.server.tsa.issued_times.append(_token_time(response))
            payload = response.dump()
            self.send_response(200)
            self.send_header("Content-Type", REPLY_TYPE)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
            pass  # keep the test output clean

    return TimestampHandler


def _token_time(response: tsp.TimeStampResp) -> dt.datetime:
    signed_data = response["time_stamp_token"]["content"]
    return signed_data["encap_content_info"]["content"].parsed["gen_time"].native


def _tsa_certificate(
    root_cert: x509.Certificate, root_key: rsa.RSAPrivateKey, tsa_key: rsa.RSAPrivateKey
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RCP TEST — NE PAS UTILISER"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Horodatage RCP (TEST)"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root_cert.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # RFC 3161 § 2.3: the TSA certificate carries exactly this critical extended key usage.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
