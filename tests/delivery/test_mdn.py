"""Read receipts (RFC 8098 MDN): building them and recognising them among incoming mail."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime

import pytest

from rcp_app.delivery.mdn import Mdn, build_mdn, parse_mdn

ORIGINAL_ID = "<fiche-5b9e3f7a-v1-gp@ch-valmont.mssante.fr>"
GP = "luc.bernard@medecin.mssante.fr"

# Shaped like a Thunderbird 115 receipt (RFC 8098 §9 examples), CRLF line ends as on the wire.
THUNDERBIRD_MDN = """\
Return-Path: <luc.bernard@medecin.mssante.fr>
Message-ID: <3c1b9f2e-77aa-4d21-9c5e-0f3b2a1d4e5f@medecin.mssante.fr>
Date: Fri, 27 Nov 2026 09:12:44 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Luc Bernard <luc.bernard@medecin.mssante.fr>
To: rcp.senologie@ch-valmont.mssante.fr
Subject: =?UTF-8?Q?Accus=c3=a9_de_r=c3=a9ception_=28affich=c3=a9=29_-_Fiche_RCP?=
Content-Type: multipart/report; report-type=disposition-notification;
 boundary="------------0C2A4B6D8E1F3A5C7E9B0D2F"

This is a multi-part message in MIME format.
--------------0C2A4B6D8E1F3A5C7E9B0D2F
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Ceci est un accusé de réception pour le courrier électronique envoyé à
luc.bernard@medecin.mssante.fr.

Note : cet accusé de réception indique seulement que le message a été
affiché sur l'ordinateur du destinataire.

--------------0C2A4B6D8E1F3A5C7E9B0D2F
Content-Type: message/disposition-notification; name="MDNPart2.txt"
Content-Disposition: inline
Content-Transfer-Encoding: 7bit

Reporting-UA: medecin.mssante.fr; Thunderbird 115.5.0
Final-Recipient: rfc822;luc.bernard@medecin.mssante.fr
Original-Message-ID: <fiche-5b9e3f7a-v1-gp@ch-valmont.mssante.fr>
Disposition: manual-action/MDN-sent-manually; displayed

--------------0C2A4B6D8E1F3A5C7E9B0D2F
Content-Type: text/rfc822-headers; name="MDNPart3.txt"
Content-Transfer-Encoding: 7bit
Content-Disposition: inline

From: rcp.senologie@ch-valmont.mssante.fr
To: luc.bernard@medecin.mssante.fr
Subject: Fiche RCP
Message-ID: <fiche-5b9e3f7a-v1-gp@ch-valmont.mssante.fr>
Disposition-Notification-To: rcp.senologie@ch-valmont.mssante.fr

--------------0C2A4B6D8E1F3A5C7E9B0D2F--
""".replace("\n", "\r\n").encode("utf-8")

# A receipt from a client that omits Original-Message-ID (optional in RFC 8098 §3.2.5).
NO_ORIGINAL_ID_MDN = b"""\
From: secretariat@cabinet.mssante.fr
To: rcp.senologie@ch-valmont.mssante.fr
Subject: Read: Fiche RCP
In-Reply-To: <fiche-5b9e3f7a-v1-sec@ch-valmont.mssante.fr>
References: <thread-root@ch-valmont.mssante.fr> <fiche-5b9e3f7a-v1-sec@ch-valmont.mssante.fr>
MIME-Version: 1.0
Content-Type: multipart/report; report-type="Disposition-Notification"; boundary="b1"

--b1
Content-Type: text/plain

Your message was deleted without being read.
--b1
Content-Type: message/disposition-notification

Reporting-UA: cabinet.mssante.fr; Webmail MSSante 4.2
Final-Recipient: rfc822; secretariat@cabinet.mssante.fr
Disposition: automatic-action/MDN-sent-automatically; deleted
--b1--
"""

DELIVERY_STATUS_REPORT = b"""\
From: MAILER-DAEMON@ch-valmont.mssante.fr
To: rcp.senologie@ch-valmont.mssante.fr
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2"

--b2
Content-Type: text/plain

Delivery failed.
--b2
Content-Type: message/delivery-status

Reporting-MTA: dns; ch-valmont.mssante.fr
Original-Recipient: rfc822; inconnu@medecin.mssante.fr

Final-Recipient: rfc822; inconnu@medecin.mssante.fr
Action: failed
Status: 5.1.1
--b2--
"""

PLAIN_REPLY = b"""\
From: luc.bernard@medecin.mssante.fr
To: rcp.senologie@ch-valmont.mssante.fr
Subject: Re: Fiche RCP
In-Reply-To: <fiche-5b9e3f7a-v1-gp@ch-valmont.mssante.fr>
Content-Type: text/plain; charset=utf-8

Bien re\xc3\xa7u, merci. Disposition: manual-action/MDN-sent-manually; displayed
"""

REPORT_WITHOUT_DISPOSITION = b"""\
From: x@example.org
Content-Type: multipart/report; report-type=disposition-notification; boundary="b3"

--b3
Content-Type: message/disposition-notification

Reporting-UA: example.org; broken
Final-Recipient: rfc822; x@example.org
--b3--
"""


@pytest.mark.parametrize("disposition", ["displayed", "deleted", "dispatched", "processed"])
def test_round_trip(disposition):
    raw = build_mdn(ORIGINAL_ID, GP, disposition, to="rcp@ch-valmont.mssante.fr")
    mdn = parse_mdn(raw)
    assert mdn is not None
    assert mdn.original_message_id == ORIGINAL_ID
    assert mdn.disposition == disposition
    assert mdn.final_recipient == GP
    assert mdn.reporting_ua and "rcp-app" in mdn.reporting_ua


def test_built_receipt_is_an_rfc8098_report_and_reproducible():
    date = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    raw = build_mdn(ORIGINAL_ID, GP, date=date)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"multipart/report" in head
    assert b'report-type="disposition-notification"' in head
    assert b"In-Reply-To: " + ORIGINAL_ID.encode() in head
    assert b"Disposition: manual-action/MDN-sent-manually; displayed" in raw
    assert raw == build_mdn(ORIGINAL_ID, GP, date=date)


def test_thunderbird_receipt():
    assert parse_mdn(THUNDERBIRD_MDN) == Mdn(
        original_message_id=ORIGINAL_ID,
        disposition="displayed",
        final_recipient=GP,
        reporting_ua="medecin.mssante.fr; Thunderbird 115.5.0",
        action_mode="manual-action/MDN-sent-manually",
    )


def test_missing_original_message_id_falls_back_on_the_thread_headers():
    mdn = parse_mdn(NO_ORIGINAL_ID_MDN)
    assert mdn is not None
    assert mdn.original_message_id == "<fiche-5b9e3f7a-v1-sec@ch-valmont.mssante.fr>"
    assert mdn.disposition == "deleted"
    assert mdn.action_mode == "automatic-action/MDN-sent-automatically"
    assert mdn.final_recipient == "secretariat@cabinet.mssante.fr"


def test_references_alone_give_the_last_message_id():
    raw = NO_ORIGINAL_ID_MDN.replace(
        b"In-Reply-To: <fiche-5b9e3f7a-v1-sec@ch-valmont.mssante.fr>\n", b""
    )
    assert parse_mdn(raw).original_message_id == "<fiche-5b9e3f7a-v1-sec@ch-valmont.mssante.fr>"


def test_global_disposition_notification_is_understood():
    raw = THUNDERBIRD_MDN.replace(
        b"message/disposition-notification;", b"message/global-disposition-notification;"
    )
    assert parse_mdn(raw).disposition == "displayed"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("base64", base64.encodebytes), ("quoted-printable", quopri.encodestring)],
)
def test_encoded_global_notification_with_utf8_fields(encoding, encode):
    """RFC 6533: UTF-8 fields, and the part may be base64 or quoted-printable encoded."""
    fields = (
        "Reporting-UA: cabinet.mssante.fr; Webmail\r\n"
        "Final-Recipient: rfc822; hélène.faure@cabinet.mssante.fr\r\n"
        f"Original-Message-ID: {ORIGINAL_ID}\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
    ).encode()
    raw = (
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n"
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nLu.\r\n--b\r\n"
        b"Content-Type: message/global-disposition-notification\r\n"
        b"Content-Transfer-Encoding: "
        + encoding.encode()
        + b"\r\n\r\n"
        + encode(fields)
        + b"\r\n--b--\r\n"
    )
    mdn = parse_mdn(raw)
    assert mdn is not None
    assert mdn.final_recipient == "hélène.faure@cabinet.mssante.fr"
    assert mdn.original_message_id == ORIGINAL_ID


@pytest.mark.parametrize(
    "raw",
    [DELIVERY_STATUS_REPORT, PLAIN_REPLY, REPORT_WITHOUT_DISPOSITION],
    ids=["rapport_de_non_remise", "reponse_ordinaire", "rapport_sans_disposition"],
)
def test_other_messages_are_not_receipts(raw):
    assert parse_mdn(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x80\x81",
        bytes(range(256)) * 4,
        b"Content-Type: multipart/report; report-type=disposition-notification\r\n\r\nno parts",
        THUNDERBIRD_MDN[: len(THUNDERBIRD_MDN) // 3],
        "pas des octets",
        None,
    ],
    ids=["vide", "binaire", "octets", "sans_parties", "tronque", "texte", "none"],
)
def test_garbage_gives_none(raw):
    assert parse_mdn(raw) is None
