"""The SMTP layer against a real SMTP server on loopback (tests/delivery/smtp_server.py)."""

from __future__ import annotations

import email.policy
import os
import signal
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from rcp_app.delivery.mailbox import LocalMailbox, list_messages, read_message
from rcp_app.delivery.smtp import SmtpConnection, SmtpSettings, send_message
from tests.delivery.smtp_server import Step, make_tls_files, running_server

SENDER = "rcp@chu.example.org"
RECIPIENT = "dr.martin@hopital.example.org"
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with running_server() as smtp_server:
        yield smtp_server


def fiche_message(number: int = 1, subject: str = "Fiche RCP signée") -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = RECIPIENT
    message["Subject"] = subject
    message["Message-ID"] = f"<fiche-{number}@rcp.example.org>"
    message.set_content("Bonjour,\n\nVeuillez trouver la fiche RCP signée.\n.ligne avec un point\n")
    message.add_attachment(
        b"%PDF-1.7 fiche", maintype="application", subtype="pdf", filename="fiche.pdf"
    )
    return message


def send(server, message=None, *, recipients=(RECIPIENT,), **settings):
    return send_message(
        server.settings(**settings),
        message or fiche_message(),
        envelope_from=SENDER,
        recipients=list(recipients),
    )


def test_message_arrives_byte_identical_with_its_envelope(server):
    message = fiche_message()

    result = send(server, message)

    assert (result.outcome, result.code) == ("sent", 250)
    [received] = server.messages
    assert received.data == message.as_bytes(policy=email.policy.SMTP)
    assert received.message_id == "<fiche-1@rcp.example.org>"
    assert (received.mail_from, received.rcpt_tos) == (SENDER, (RECIPIENT,))


def test_bcc_header_is_not_transmitted(server):
    message = fiche_message()
    message["Bcc"] = "secret@hopital.example.org"

    assert send(server, message).sent
    assert b"secret@" not in server.messages[0].data
    assert "Bcc" in message  # the caller's message is left as it was


def test_server_down_is_temporary_then_sent_once_up_again_on_the_same_port(server):
    port = server.port
    server.stop()

    down = send(server)

    assert down.outcome == "temporary"
    assert "Connexion refusée" in down.detail and str(port) in down.detail
    server.start()
    assert server.port == port
    assert send(server).sent
    assert server.count("<fiche-1@rcp.example.org>") == 1


def test_451_at_rcpt_is_temporary_and_the_next_attempt_succeeds(server):
    server.script("RCPT", Step.reply(451, "4.3.0 Try again later"))

    first = send(server)
    second = send(server)

    assert (first.outcome, first.code, first.stage) == ("temporary", 451, "rcpt")
    assert "451 4.3.0 Try again later" in first.detail and RECIPIENT in first.detail
    assert second.sent
    assert server.count("<fiche-1@rcp.example.org>") == 1


def test_550_unknown_user_is_permanent_with_the_code_in_the_detail(server):
    server.refuse_recipient(RECIPIENT, Step.reply(550, "5.1.1 User unknown"))

    result = send(server)

    assert (result.outcome, result.code) == ("permanent", 550)
    assert "550 5.1.1 User unknown" in result.detail
    assert "définitif" in result.detail
    assert server.messages == []


def test_one_refused_recipient_stops_the_whole_message(server):
    # Otherwise the retry of the refused recipient would send a duplicate to the others.
    server.refuse_recipient("absent@hopital.example.org", Step.reply(450, "4.2.1 Mailbox busy"))

    result = send(server, recipients=[RECIPIENT, "absent@hopital.example.org"])

    assert (result.outcome, result.code) == ("temporary", 450)
    assert "absent@hopital.example.org" in result.detail
    assert server.messages == []


def test_mixed_refusals_are_permanent_when_one_is(server):
    server.script("RCPT", Step.reply(451, "4.3.0 Later"), Step.reply(550, "5.1.1 Unknown"))

    result = send(server, recipients=[RECIPIENT, "inconnu@hopital.example.org"])

    assert (result.outcome, result.code) == ("permanent", 550)
    assert "451 4.3.0 Later" in result.detail and "550 5.1.1 Unknown" in result.detail


@pytest.mark.parametrize(
    ("stage", "code", "outcome"),
    [
        ("MAIL", 451, "temporary"),
        ("MAIL", 553, "permanent"),
        ("DATA", 554, "permanent"),
        ("DATA", 452, "temporary"),
    ],
)
def test_refusals_at_mail_and_data_follow_the_code_class(server, stage, code, outcome):
    server.script(stage, Step.reply(code, "Refused for the test"))

    result = send(server)

    assert (result.outcome, result.code, result.stage) == (outcome, code, stage.lower())
    assert f"{code} Refused for the test" in result.detail
    assert server.messages == []


def test_421_at_data_with_the_server_hanging_up_is_temporary(server):
    server.script("DATA", Step.reply(421, "4.3.2 Service shutting down", close=True))

    result = send(server)

    assert (result.outcome, result.code) == ("temporary", 421)
    assert "421 4.3.2 Service shutting down" in result.detail
    assert server.messages == []
    assert send(server).sent


@pytest.mark.parametrize(
    "address",
    [
        "sans-arobase.example.org",
        "dr martin@hopital.example.org",
        "dr.martin@hopital.example.org\r\nRCPT TO:<intrus@example.org>",
        "élodie@hopital.example.org",
        "dr.martin@",
        "",
    ],
)
def test_malformed_recipient_is_permanent_without_connecting(server, address):
    result = send(server, recipients=[address])

    assert (result.outcome, result.stage) == ("permanent", "validation")
    assert "Adresse de destinataire invalide" in result.detail
    assert "\r" not in result.detail and "\n" not in result.detail
    assert server.connections == 0


def test_missing_starttls_is_a_temporary_configuration_error(server):
    # The message is fine: the configuration must be fixed, then it will go.
    result = send(server, security="starttls")

    assert (result.outcome, result.stage) == ("temporary", "tls")
    assert "STARTTLS" in result.detail and "RCP_SMTP_SECURITY" in result.detail
    assert server.messages == []


def test_tls_handshake_failure_is_temporary(server):
    result = send(server, security="tls")

    assert result.outcome == "temporary"
    assert "TLS" in result.detail
    assert server.messages == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("smtp-tls"))


def test_starttls_with_the_configured_ca_sends(tls_files):
    with running_server(tls_context=tls_files.server_context()) as server:
        result = send(server, security="starttls", ca_file=str(tls_files.ca_file))

        assert result.sent, result.detail
        assert server.count("<fiche-1@rcp.example.org>") == 1


def test_implicit_tls_with_the_configured_ca_sends(tls_files):
    with running_server(ssl_context=tls_files.server_context()) as server:
        result = send(server, security="tls", ca_file=str(tls_files.ca_file))

        assert result.sent, result.detail
        assert server.count("<fiche-1@rcp.example.org>") == 1


def test_untrusted_server_certificate_is_temporary(tls_files):
    with running_server(tls_context=tls_files.server_context()) as server:
        result = send(server, security="starttls")  # the system CAs do not know the test CA

        assert (result.outcome, result.stage) == ("temporary", "tls")
        assert "RCP_SMTP_CA_FILE" in result.detail
        assert server.messages == []


def test_refused_credentials_are_a_temporary_configuration_error(tls_files):
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.password == b"bon-mot-de-passe", handled=False)

    with running_server(tls_context=tls_files.server_context(), authenticator=authenticator) as (
        server
    ):
        tls = {"security": "starttls", "ca_file": str(tls_files.ca_file), "username": "rcp"}
        refused = send(server, **tls, password="mauvais")
        accepted = send(server, **tls, password="bon-mot-de-passe")

        assert (refused.outcome, refused.stage, refused.code) == ("temporary", "auth", 535), refused
        assert "RCP_SMTP_PASSWORD" in refused.detail
        assert accepted.sent, accepted.detail
        assert server.count("<fiche-1@rcp.example.org>") == 1


def test_slow_server_times_out_as_temporary(server):
    server.script("MAIL", Step.accept(delay=2))

    result = send(server, timeout=0.3)

    assert result.outcome == "temporary"
    assert "Délai dépassé" in result.detail


def test_unknown_host_is_temporary():
    settings = SmtpSettings(host="serveur-inexistant.invalid", port=25, timeout=5, helo_name="t")

    result = send_message(settings, fiche_message(), envelope_from=SENDER, recipients=[RECIPIENT])

    assert result.outcome == "temporary"
    assert "serveur-inexistant.invalid" in result.detail


def test_connection_sends_a_batch_over_one_session(server):
    with SmtpConnection(server.settings()) as connection:
        results = [
            connection.send(fiche_message(n), envelope_from=SENDER, recipients=[RECIPIENT])
            for n in range(20)
        ]

    assert all(r.sent for r in results)
    assert server.connections == 1
    assert {m.connection for m in server.messages} == {1}
    assert server.message_ids() == [f"<fiche-{n}@rcp.example.org>" for n in range(20)]


def test_connection_reconnects_once_when_the_server_dropped_it(server):
    with SmtpConnection(server.settings()) as connection:
        first = connection.send(fiche_message(1), envelope_from=SENDER, recipients=[RECIPIENT])
        server.drop_connections()
        second = connection.send(fiche_message(2), envelope_from=SENDER, recipients=[RECIPIENT])

    assert first.sent and second.sent
    assert server.connections == 2
    assert server.count("<fiche-1@rcp.example.org>") == 1
    assert server.count("<fiche-2@rcp.example.org>") == 1


def test_connection_reconnects_after_a_421_to_mail(server):
    with SmtpConnection(server.settings()) as connection:
        assert connection.send(fiche_message(1), envelope_from=SENDER, recipients=[RECIPIENT]).sent
        server.script("MAIL", Step.reply(421, "4.4.2 Idle timeout", close=True))
        second = connection.send(fiche_message(2), envelope_from=SENDER, recipients=[RECIPIENT])

    assert second.sent
    assert server.connections == 2


def test_connection_keeps_going_after_a_refused_message(server):
    server.script("RCPT", Step.reply(550, "5.1.1 User unknown"))
    with SmtpConnection(server.settings()) as connection:
        refused = connection.send(fiche_message(1), envelope_from=SENDER, recipients=[RECIPIENT])
        accepted = connection.send(fiche_message(2), envelope_from=SENDER, recipients=[RECIPIENT])

    assert (refused.outcome, accepted.outcome) == ("permanent", "sent")
    assert server.connections == 1
    assert server.message_ids() == ["<fiche-2@rcp.example.org>"]


def test_connection_reports_a_stopped_server_without_raising(server):
    with SmtpConnection(server.settings()) as connection:
        assert connection.send(fiche_message(1), envelope_from=SENDER, recipients=[RECIPIENT]).sent
        server.stop()
        result = connection.send(fiche_message(2), envelope_from=SENDER, recipients=[RECIPIENT])

    assert result.outcome == "temporary"
    assert "Connexion refusée" in result.detail


def test_connection_does_not_retry_an_unreachable_server_for_each_message(server):
    server.stop()
    with SmtpConnection(server.settings()) as connection:
        results = [
            connection.send(fiche_message(n), envelope_from=SENDER, recipients=[RECIPIENT])
            for n in range(3)
        ]
        invalid = connection.send(fiche_message(4), envelope_from=SENDER, recipients=["x"])

    assert [r.outcome for r in results] == ["temporary"] * 3
    assert all("Connexion refusée" in r.detail for r in results)
    assert connection.connection_attempts == 1
    assert invalid.outcome == "permanent"  # the address is still checked first


def test_settings_from_config_defaults_and_values():
    assert SmtpSettings.from_config({}) == SmtpSettings(
        host="127.0.0.1", port=8025, security="none", username=None, password=None, timeout=30.0
    )
    settings = SmtpSettings.from_config(
        {
            "RCP_SMTP_HOST": "smtp.chu.example.org",
            "RCP_SMTP_PORT": "587",
            "RCP_SMTP_SECURITY": "STARTTLS",
            "RCP_SMTP_USERNAME": "rcp",
            "RCP_SMTP_PASSWORD": "secret",
            "RCP_SMTP_TIMEOUT": "12.5",
        }
    )
    assert (settings.host, settings.port, settings.security) == (
        "smtp.chu.example.org",
        587,
        "starttls",
    )
    assert (settings.username, settings.password, settings.timeout) == ("rcp", "secret", 12.5)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"RCP_SMTP_PORT": "vingt-cinq"}, "RCP_SMTP_PORT doit être un nombre"),
        ({"RCP_SMTP_PORT": "70000"}, "RCP_SMTP_PORT doit être compris"),
        ({"RCP_SMTP_SECURITY": "ssl"}, "RCP_SMTP_SECURITY doit valoir"),
        ({"RCP_SMTP_TIMEOUT": "0"}, "RCP_SMTP_TIMEOUT doit être positif"),
        ({"RCP_SMTP_USERNAME": "rcp"}, "RCP_SMTP_PASSWORD est obligatoire"),
    ],
)
def test_settings_from_config_rejects_bad_values_in_french(config, message):
    with pytest.raises(ValueError, match=message):
        SmtpSettings.from_config(config)


def test_local_mailbox_stores_and_lists_messages_newest_first(tmp_path):
    with LocalMailbox(tmp_path, port=0) as mailbox:
        settings = SmtpSettings(port=mailbox.port, helo_name="client.test")
        for number, subject in [(1, "Première fiche"), (2, "Seconde fiche")]:
            result = send_message(
                settings,
                fiche_message(number, subject),
                envelope_from=SENDER,
                recipients=[RECIPIENT],
            )
            assert result.sent, result.detail

    stored = list_messages(tmp_path)

    assert [m.subject for m in stored] == ["Seconde fiche", "Première fiche"]
    assert [m.message_id for m in stored] == [
        "<fiche-2@rcp.example.org>",
        "<fiche-1@rcp.example.org>",
    ]
    assert stored[0].received_at >= stored[1].received_at
    assert (stored[0].sender, stored[0].recipients) == (SENDER, (RECIPIENT,))
    assert stored[0].size == stored[0].path.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(m.name for m in stored)
    assert b"Veuillez trouver la fiche RCP" in read_message(tmp_path, stored[1].name)


@pytest.mark.parametrize("name", ["../x", "../x.eml", "/etc/passwd", ".tmp-a.eml", ""])
def test_read_message_refuses_names_outside_the_mailbox(tmp_path, name):
    with pytest.raises(ValueError, match="Nom de message invalide"):
        read_message(tmp_path, name)


def test_mailbox_command_listens_stores_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "rcp_app.delivery.mailbox",
        "--dir",
        str(tmp_path),
        "--port",
        str(port),
    ]
    with subprocess.Popen(
        command,
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            banner = process.stdout.readline()
            assert f"127.0.0.1:{port}" in banner and str(tmp_path) in banner
            settings = SmtpSettings(port=port, helo_name="client.test")
            assert send_message(
                settings, fiche_message(), envelope_from=SENDER, recipients=[RECIPIENT]
            ).sent
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert [m.message_id for m in list_messages(tmp_path)] == ["<fiche-1@rcp.example.org>"]


def test_mailbox_command_reports_a_busy_port_in_french(tmp_path):
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        port = occupied.getsockname()[1]
        command = [
            sys.executable,
            "-m",
            "rcp_app.delivery.mailbox",
            "--dir",
            str(tmp_path),
            "--port",
            str(port),
        ]
        finished = subprocess.run(
            command, cwd=REPOSITORY, capture_output=True, text=True, timeout=30
        )

    assert finished.returncode == 1
    assert f"impossible d'écouter sur 127.0.0.1:{port}" in finished.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
