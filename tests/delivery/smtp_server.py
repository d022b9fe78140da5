"""A real SMTP server on loopback for the delivery tests, with scriptable failures.

    with running_server() as server:
        server.script("RCPT", Step.reply(451, "4.3.0 Try again later"))  # then accept
        ...send through server.host / server.port...
        assert server.count("<id@example.org>") == 1

Scripts are consumed one step per command of that kind (MAIL, RCPT, DATA); once a script is
exhausted the server accepts. ``refuse_recipient`` refuses an address every time. ``stop()``
closes the port (connection refused), ``start()`` opens the same port again.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rcp_app.delivery.mailbox import ThreadedSmtpController, TrackedSMTP
from rcp_app.delivery.smtp import SmtpSettings

STAGES = ("MAIL", "RCPT", "DATA")


@dataclass(frozen=True)
class Step:
    """What the server does for one command: accept, or reply a code (and maybe hang up)."""

    code: int | None = None
    text: str = ""
    close: bool = False
    delay: float = 0.0

    @classmethod
    def accept(cls, *, delay: float = 0.0) -> Step:
        return cls(delay=delay)

    @classmethod
    def reply(cls, code: int, text: str, *, close: bool = False, delay: float = 0.0) -> Step:
        return cls(code, text, close, delay)

    @property
    def accepts(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # number of the connection it came on (1 = first since start)

    @property
    def message_id(self) -> str:
        headers = BytesParser(policy=default_policy).parsebytes(self.data, headersonly=True)
        return str(headers.get("Message-ID", ""))


class _RecordingSMTP(TrackedSMTP):
    """Numbers its connection and can hang up right after a reply (like a 421)."""

    connection_number = 0
    close_after_reply = False

    async def push(self, status: str | bytes) -> None:
        await super().push(status)
        if self.close_after_reply and self.transport is not None:
            self.transport.close()


class _ScriptedHandler:
    def __init__(self, server: RecordingSmtpServer):
        self.owner = server

    async def handle_MAIL(self, server, session: Session, envelope: Envelope, address, options):
        step = self.owner._next_step("MAIL", address)
        if not step.accepts:
            return await _refuse(server, step)
        await asyncio.sleep(step.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address, options):
        step = self.owner._next_step("RCPT", address)
        if not step.accepts:
            return await _refuse(server, step)
        await asyncio.sleep(step.delay)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope):
        step = self.owner._next_step("DATA", None)
        if not step.accepts:
            return await _refuse(server, step)
        # Stored before the (delayed) reply, as a real server queues the message before its
        # « 250 »: a client that dies while waiting has delivered it without knowing.
        number = self.owner._record(envelope, server.connection_number)
        await asyncio.sleep(step.delay)
        return f"250 2.0.0 OK queued as {number}"


async def _refuse(server: _RecordingSMTP, step: Step) -> str:
    await asyncio.sleep(step.delay)
    server.close_after_reply = step.close
    return f"{step.code} {step.text}".strip()


class RecordingSmtpServer:
    """A real aiosmtpd server in a thread, on a free loopback port unless one is given."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **smtp_options):
        self.host = host
        self.port = port
        self._smtp_options = smtp_options
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Step]] = {stage: deque() for stage in STAGES}
        self._refused_recipients: dict[str, Step] = {}
        self._messages: list[ReceivedMessage] = []
        self._connections = 0
        self._counting = True
        self._controller: ThreadedSmtpController | None = None

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Listen (again) on the same port: the first start fixes it."""
        assert self._controller is None, "serveur SMTP de test déjà démarré"
        controller = _CountingController(self, host=self.host, port=self.port, **self._smtp_options)
        self._counting = False  # aiosmtpd's start-up probe is not a client
        try:
            controller.start()
        finally:
            self._counting = True
        self._controller = controller
        self.port = controller.port

    def stop(self) -> None:
        """Close open connections and the port: new connections are then refused."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def drop_connections(self) -> None:
        """Hang up on every connected client, as a server restarting or timing out would."""
        if self._controller is not None:
            self._controller.close_connections()

    # --- scripting --------------------------------------------------------------------------

    def script(self, stage: str, *steps: Step) -> None:
        """Queue the behaviour of the next commands of that stage (MAIL, RCPT or DATA)."""
        if stage not in STAGES:
            raise ValueError(f"étape inconnue : {stage}")
        with self._lock:
            self._scripts[stage].extend(steps)

    def refuse_recipient(self, address: str, step: Step) -> None:
        """Refuse this recipient at every attempt (after the RCPT script, if any)."""
        with self._lock:
            self._refused_recipients[address.lower()] = step

    def reset(self) -> None:
        """Forget scripts, rules, recorded messages and the connection count."""
        with self._lock:
            for queue in self._scripts.values():
                queue.clear()
            self._refused_recipients.clear()
            self._messages.clear()
            self._connections = 0

    def _next_step(self, stage: str, address: str | None) -> Step:
        with self._lock:
            if self._scripts[stage]:
                return self._scripts[stage].popleft()
            if address is not None and stage == "RCPT":
                return self._refused_recipients.get(address.lower(), Step())
            return Step()

    # --- what was received ------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Client connections accepted since the first start (or the last reset)."""
        with self._lock:
            return self._connections

    def message_ids(self) -> list[str]:
        """Message-IDs in order of arrival (a duplicate appears twice)."""
        return [m.message_id for m in self.messages]

    def count(self, message_id: str) -> int:
        return self.message_ids().count(message_id)

    def _record(self, envelope: Envelope, connection: int) -> int:
        message = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=envelope.original_content,
            connection=connection,
        )
        with self._lock:
            self._messages.append(message)
            return len(self._messages)

    def _connection_made(self, protocol: _RecordingSMTP) -> None:
        if not self._counting:
            return
        with self._lock:
            self._connections += 1
            protocol.connection_number = self._connections

    # --- how to reach it --------------------------------------------------------------------

    def settings(self, **overrides) -> SmtpSettings:
        values = {"host": self.host, "port": self.port, "helo_name": "client.test", "timeout": 5}
        return SmtpSettings(**(values | overrides))

    def config(self) -> dict[str, str]:
        """The RCP_SMTP_* settings of an application that sends here."""
        return {"RCP_SMTP_HOST": self.host, "RCP_SMTP_PORT": str(self.port)}


class _CountingController(ThreadedSmtpController):
    def __init__(self, owner: RecordingSmtpServer, *, host: str, port: int, **smtp_options):
        super().__init__(
            _ScriptedHandler(owner),
            host=host,
            port=port,
            smtp_class=_RecordingSMTP,
            server_hostname="smtp.test",
            **smtp_options,
        )
        self._owner = owner

    def connection_opened(self, protocol: SMTP) -> None:
        super().connection_opened(protocol)
        self._owner._connection_made(protocol)


@contextmanager
def running_server(**options) -> Iterator[RecordingSmtpServer]:
    server = RecordingSmtpServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a server certificate it issued for 127.0.0.1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC de test SMTP")])
    ca_cert = (
        _certificate_builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_cert = (
        _certificate_builder(server_name, ca_name, server_key.public_key())
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _certificate_builder(subject, issuer, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
