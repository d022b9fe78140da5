"""Sending e-mails over SMTP, with every failure turned into a classified result.

The delivery worker must never crash on a network or SMTP problem and must know whether to
retry: ``send_message`` and ``SmtpConnection.send`` return a ``SendResult`` whose outcome is
"sent", "temporary" (retry later) or "permanent" (retrying cannot help).

Classification rules:
- connection refused, timeout, DNS failure, TLS failure, disconnection, any 4xx: temporary;
- 5xx to MAIL FROM, RCPT TO or DATA: permanent (the message or its recipient is refused);
- problems of the connection itself (greeting, EHLO, STARTTLS missing, authentication): temporary,
  whatever the code, because they say nothing about the message: the configuration or the server
  must be fixed, and the message will go once it is;
- a malformed address is refused before connecting: permanent.

A message is all-or-nothing: if any recipient is refused, the transaction is reset before DATA,
so a retry never duplicates the message for the recipients that had been accepted.
"""

from __future__ import annotations

import copy
import functools
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

SECURITY_MODES = ("none", "starttls", "tls")
Outcome = Literal["sent", "temporary", "permanent"]

# Stages of the exchange whose refusals concern the message rather than the connection.
_MESSAGE_STAGES = ("mail", "rcpt", "data")
_CONNECTION_STAGES = ("connect", "helo", "tls", "auth")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_MAX_ADDRESS_LENGTH = 254


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    helo_name: str | None = None
    # A private CA (e.g. a hospital's) to trust for "starttls"/"tls"; None: the system's CAs.
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() for c in self.host):
            raise ValueError(f"RCP_SMTP_HOST invalide : « {self.host} ».")
        if not 0 < self.port < 65536:
            raise ValueError(
                f"RCP_SMTP_PORT doit être compris entre 1 et 65535 (reçu {self.port})."
            )
        if self.security not in SECURITY_MODES:
            raise ValueError(
                f"RCP_SMTP_SECURITY doit valoir none, starttls ou tls (reçu « {self.security} »)."
            )
        if not self.timeout > 0:
            raise ValueError(f"RCP_SMTP_TIMEOUT doit être positif (reçu {self.timeout}).")
        if self.username and self.password is None:
            raise ValueError(
                "RCP_SMTP_PASSWORD est obligatoire quand RCP_SMTP_USERNAME est défini."
            )

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> SmtpSettings:
        """Settings from RCP_SMTP_* keys (strings from the environment, or already typed)."""
        return cls(
            host=_text(config, "RCP_SMTP_HOST") or "127.0.0.1",
            port=_number(config, "RCP_SMTP_PORT", int, 8025),
            security=(_text(config, "RCP_SMTP_SECURITY") or "none").lower(),
            username=_text(config, "RCP_SMTP_USERNAME"),
            password=_text(config, "RCP_SMTP_PASSWORD"),
            timeout=_number(config, "RCP_SMTP_TIMEOUT", float, 30.0),
            helo_name=_text(config, "RCP_SMTP_HELO_NAME"),
            ca_file=_text(config, "RCP_SMTP_CA_FILE"),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def _text(config: Mapping[str, object], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _number(config: Mapping[str, object], key: str, kind: type, default: float):
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} doit être un nombre (reçu « {value} »).") from None


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str
    code: int | None = None
    # Where it ended: "validation", "connect", "helo", "tls", "auth", "mail", "rcpt", "data".
    stage: str = ""

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


def send_message(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    envelope_from: str,
    recipients: list[str],
) -> SendResult:
    """Send one message over its own connection. Never raises for SMTP or network errors."""
    with SmtpConnection(settings) as connection:
        return connection.send(message, envelope_from=envelope_from, recipients=recipients)


class SmtpConnection:
    """One SMTP connection reused for a batch of messages (opened on the first send).

    If the server closed the connection while it was idle, the next send reconnects once.
    If connecting fails, the following sends report the same failure without trying again:
    with an unreachable server, each attempt could otherwise wait for the whole timeout.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connection_attempts = 0
        self.connections_opened = 0
        self._client: smtplib.SMTP | None = None
        self._connection_failure: SendResult | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye politely; the messages already accepted are unaffected by any error."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            client.close()

    def send(
        self, message: EmailMessage, *, envelope_from: str, recipients: list[str]
    ) -> SendResult:
        invalid = _check_envelope(envelope_from, recipients)
        if invalid is not None:
            return invalid
        payload = _serialise(message)
        reused = self._client is not None
        result, lost_before_sending = self._send_once(payload, envelope_from, recipients)
        if reused and lost_before_sending:
            # The server dropped the idle connection before anything of this message was
            # accepted: a fresh connection cannot cause a duplicate.
            result, _ = self._send_once(payload, envelope_from, recipients)
        return result

    def _send_once(
        self, payload: bytes, envelope_from: str, recipients: list[str]
    ) -> tuple[SendResult, bool]:
        if self._connection_failure is not None:
            return self._connection_failure, False
        progress = _Progress()
        try:
            if self._client is None:
                self._client = self._open(progress)
            return self._transaction(
                self._client, progress, payload, envelope_from, recipients
            ), False
        except _Refused as refusal:
            self._recover_after_refusal(refusal)
            result = refusal.result(self.settings)
            return result, progress.stage == "mail" and refusal.code == 421
        except (smtplib.SMTPException, OSError, _ConfigurationProblem) as error:
            self._discard()
            result = _result_from_error(error, progress.stage, self.settings)
            if progress.stage in _CONNECTION_STAGES:
                self._connection_failure = result
            return result, progress.stage == "mail" and _is_disconnection(error)

    def _open(self, progress: _Progress) -> smtplib.SMTP:
        settings = self.settings
        helo = settings.helo_name or _default_helo_name()
        progress.stage = "connect"
        self.connection_attempts += 1
        # Connecting through the constructor: smtplib keeps the host name only then, and TLS
        # needs it to check the server's certificate. It closes its socket when that fails.
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=helo,
                timeout=settings.timeout,
                context=settings.tls_context(),
            )
        else:
            client = smtplib.SMTP(
                settings.host, settings.port, local_hostname=helo, timeout=settings.timeout
            )
        try:
            progress.stage = "helo"
            client.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                progress.stage = "tls"
                self._start_tls(client)
            if settings.username:
                progress.stage = "auth"
                client.login(settings.username, settings.password or "")
        except BaseException:
            client.close()
            raise
        self.connections_opened += 1
        return client

    def _start_tls(self, client: smtplib.SMTP) -> None:
        if not client.has_extn("starttls"):
            raise _ConfigurationProblem(
                f"Le serveur SMTP {self.settings.address} ne propose pas STARTTLS alors que "
                "RCP_SMTP_SECURITY=starttls : vérifier la configuration (port, sécurité). "
                "Le message reste en attente."
            )
        client.starttls(context=self.settings.tls_context())
        client.ehlo()

    def _transaction(
        self,
        client: smtplib.SMTP,
        progress: _Progress,
        payload: bytes,
        envelope_from: str,
        recipients: list[str],
    ) -> SendResult:
        progress.stage = "mail"
        code, text = client.mail(envelope_from, _mail_options(client, payload))
        if code != 250:
            raise _Refused("mail", code, text)
        progress.stage = "rcpt"
        refusals = []
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            if code == 421:
                raise _Refused("rcpt", code, text, recipient)  # the server is hanging up
            if code not in (250, 251):
                refusals.append(_Refused("rcpt", code, text, recipient))
        if refusals:
            raise _RecipientsRefused(refusals)
        progress.stage = "data"
        code, text = client.data(payload)
        if code != 250:
            raise _Refused("data", code, text)
        detail = (
            f"Message accepté par le serveur SMTP {self.settings.address} : {code} {_text_of(text)}"
        )
        return SendResult("sent", detail, code, "data")

    def _recover_after_refusal(self, refusal: _Refused) -> None:
        """Leave the connection ready for the next message, or drop it if unusable."""
        if refusal.code == 421 or self._client is None:
            # 421: the server is closing the channel (RFC 5321 §3.8).
            self._discard()
            return
        if refusal.stage == "data":
            return  # the server resets the transaction itself after the end of DATA
        try:
            self._client.rset()
        except (smtplib.SMTPException, OSError):
            self._discard()

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


class _Progress:
    """The stage reached, kept outside the call stack so that errors can be attributed."""

    stage = "connect"


class _ConfigurationProblem(Exception):
    pass


class _Refused(Exception):
    def __init__(self, stage: str, code: int, text: bytes | str, recipient: str | None = None):
        super().__init__(stage, code)
        self.stage, self.code, self.text, self.recipient = stage, code, _text_of(text), recipient

    def result(self, settings: SmtpSettings) -> SendResult:
        outcome: Outcome = "permanent" if _is_permanent(self.code) else "temporary"
        return SendResult(outcome, self.describe(settings), self.code, self.stage)

    def describe(self, settings: SmtpSettings) -> str:
        kind = "définitif" if _is_permanent(self.code) else "temporaire"
        reply = f"{self.code} {self.text}".strip()
        if self.stage == "mail":
            return f"Refus {kind} de l'expéditeur par le serveur SMTP {settings.address} : {reply}"
        if self.stage == "rcpt":
            return f"Refus {kind} du destinataire {self.recipient} : {reply}"
        return f"Refus {kind} du message par le serveur SMTP {settings.address} : {reply}"


class _RecipientsRefused(_Refused):
    """Several recipients refused: permanent if any of them is, the first such code reported."""

    def __init__(self, refusals: list[_Refused]):
        decisive = next((r for r in refusals if _is_permanent(r.code)), refusals[0])
        super().__init__("rcpt", decisive.code, decisive.text, decisive.recipient)
        self.refusals = refusals

    def describe(self, settings: SmtpSettings) -> str:
        return " ; ".join(_Refused.describe(r, settings) for r in self.refusals)


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _is_disconnection(error: BaseException) -> bool:
    error = _underlying(error)
    return isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError)


def _underlying(error: BaseException) -> BaseException:
    """smtplib reports a network error while reading a reply as a disconnection: unwrap it."""
    if isinstance(error, smtplib.SMTPServerDisconnected) and isinstance(error.__context__, OSError):
        return error.__context__
    return error


def _result_from_error(error: BaseException, stage: str, settings: SmtpSettings) -> SendResult:
    server = f"serveur SMTP {settings.address}"
    error = _underlying(error)
    code = getattr(error, "smtp_code", None)
    if isinstance(error, _ConfigurationProblem):
        return SendResult("temporary", str(error), None, stage)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        detail = (
            f"Authentification refusée par le {server} ({code} {_text_of(error.smtp_error)}) : "
            "vérifier RCP_SMTP_USERNAME et RCP_SMTP_PASSWORD."
        )
        return SendResult("temporary", detail, code, stage)
    if isinstance(error, smtplib.SMTPNotSupportedError | smtplib.SMTPServerDisconnected):
        return SendResult("temporary", _disconnection_detail(error, stage, server), None, stage)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = f"{code} {_text_of(error.smtp_error)}".strip()
        if stage in _MESSAGE_STAGES and _is_permanent(code):
            return SendResult("permanent", f"Refus définitif du {server} : {reply}", code, stage)
        return SendResult("temporary", f"Refus temporaire du {server} : {reply}", code, stage)
    return SendResult("temporary", _network_detail(error, stage, server, settings), None, stage)


def _disconnection_detail(error: BaseException, stage: str, server: str) -> str:
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return (
            f"Le {server} ne prend pas en charge une fonction requise ({error}) : "
            "vérifier la configuration."
        )
    if stage == "data":
        return (
            f"Le {server} a fermé la connexion pendant l'envoi du message ; "
            "il a pu être reçu malgré tout (doublon possible au prochain essai)."
        )
    return f"Le {server} a fermé la connexion de façon inattendue ({error})."


def _network_detail(error: BaseException, stage: str, server: str, settings: SmtpSettings) -> str:
    if isinstance(error, ssl.SSLError):
        return (
            f"Échec de la négociation TLS avec le {server} ({error}) : vérifier RCP_SMTP_SECURITY "
            "et le certificat du serveur (RCP_SMTP_CA_FILE)."
        )
    if isinstance(error, socket.gaierror):
        return f"Nom d'hôte du serveur SMTP introuvable (DNS) : « {settings.host} » ({error})."
    if isinstance(error, TimeoutError):
        detail = f"Délai dépassé ({settings.timeout:g} s) en attendant le {server}."
        if stage == "data":
            detail += " Le message a pu être reçu malgré tout (doublon possible au prochain essai)."
        return detail
    if isinstance(error, ConnectionRefusedError):
        return f"Connexion refusée par le {server} : serveur arrêté ou port incorrect."
    if isinstance(error, ConnectionError):
        return f"Connexion interrompue avec le {server} ({error})."
    if isinstance(error, smtplib.SMTPException | _ConfigurationProblem):
        return f"Erreur SMTP avec le {server} : {error}"
    return f"Erreur réseau avec le {server} ({stage}) : {error}"


def _text_of(text: bytes | str) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return str(text)


@functools.cache
def _default_helo_name() -> str:
    # smtplib would resolve it on every connection; one lookup per process is enough.
    return socket.getfqdn()


def _mail_options(client: smtplib.SMTP, payload: bytes) -> list[str]:
    if not payload.isascii() and client.has_extn("8bitmime"):
        return ["BODY=8BITMIME"]
    return []


def _serialise(message: EmailMessage) -> bytes:
    """The bytes sent after DATA: the message as built, CRLF line ends, without Bcc."""
    if "Bcc" in message:
        message = copy.deepcopy(message)
        del message["Bcc"]
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def _check_envelope(envelope_from: str, recipients: list[str]) -> SendResult | None:
    """Refuse, before connecting, what no server could accept (or what would inject commands)."""
    problem = address_problem(envelope_from)
    if problem is not None:
        # The sender comes from the configuration: the message itself is not at fault.
        detail = f"Adresse d'expéditeur invalide « {_printable(envelope_from)} » : {problem}."
        return SendResult("temporary", detail, None, "validation")
    if not recipients:
        return SendResult(
            "permanent", "Aucun destinataire : message non envoyé.", None, "validation"
        )
    for recipient in recipients:
        problem = address_problem(recipient)
        if problem is not None:
            detail = (
                f"Adresse de destinataire invalide « {_printable(recipient)} » : {problem}. "
                "Message non envoyé."
            )
            return SendResult("permanent", detail, None, "validation")
    return None


def address_problem(address: object) -> str | None:
    """Why this envelope address is unusable (in French), or None if it is fine.

    Only plain ASCII addresses are accepted: the sender does not use SMTPUTF8.
    """
    if not isinstance(address, str) or not address:
        return "adresse vide"
    if any(not c.isprintable() for c in address):
        return "caractère de contrôle (retour à la ligne, tabulation…)"
    if any(c.isspace() for c in address):
        return "contient un espace"
    if not address.isascii():
        return "caractères non ASCII (SMTPUTF8 non pris en charge)"
    if len(address) > _MAX_ADDRESS_LENGTH:
        return f"plus de {_MAX_ADDRESS_LENGTH} caractères"
    local, at, domain = address.rpartition("@")
    if not at:
        return "il manque « @ »"
    if not _LOCAL_PART.fullmatch(local):
        return "partie avant « @ » incorrecte"
    if not _DOMAIN.fullmatch(domain):
        return "nom de domaine incorrect"
    return None


def _printable(text: object) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(text))
