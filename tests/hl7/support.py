"""PAM FR messages as a hospital's identity server writes them, and a blocking MLLP client."""

from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass
from datetime import date

import hl7

from rcp_app.patients import ins

START, END = b"\x0b", b"\x1c\x0d"
HOSPITAL = "HOPITAL&1.2.250.1.999.1&ISO"  # the IPP's assigning authority (a test OID)
TEST_NIR = "ASIP-SANTE-INS-NIR-TEST&1.2.250.1.213.1.4.10&ISO"
_numbers = itertools.count(1)


def new_ipp() -> str:
    return f"HL7{next(_numbers):07d}"


def new_matricule(sex: str = "F", birth: date = date(1956, 4, 12)) -> str:
    """A valid matricule, distinct from the factories' (another commune)."""
    digit = "2" if sex == "F" else "1"
    return ins.make_matricule(digit, birth.year, birth.month, "13", "201", next(_numbers) % 1000)


def pid(
    ipp: str,
    *,
    matricule: str | None = None,
    ins_authority: str = TEST_NIR,
    names: str = "DUPONT^Marie^Marie Hélène^^^^L",
    birth: str = "19560412",
    sex: str = "F",
    addresses: str = "^^^^^^BDL^^75056",
    birth_place: str = "",
    reliability: str = "VALI",
) -> str:
    identifiers = f"{ipp}^^^{HOSPITAL}^PI"
    if matricule:
        identifiers += f"~{matricule}^^^{ins_authority}^INS"
    fields = ["PID", "1", "", identifiers, "", names, "", birth, sex, "", "", addresses]
    fields += [""] * (23 - len(fields)) + [birth_place]
    fields += [""] * (32 - len(fields)) + [reliability]
    return "|".join(fields)


def message(
    event: str,
    *segments: str,
    control_id: str | None = None,
    message_type: str = "ADT",
    processing: str = "P",
    version: str = "2.5",
    charset: str = "8859/1",
) -> str:
    structure = {"A28": "ADT_A05", "A31": "ADT_A05", "A40": "ADT_A39"}.get(event, "ADT_A01")
    msh = (
        f"MSH|^~\\&|GAM|HOPITAL|RCP|CHV|20261201101500||{message_type}^{event}^{structure}|"
        f"{control_id or f'CTL{next(_numbers)}'}|{processing}|{version}|||||FRA|{charset}"
    )
    return "\r".join([msh, "EVN||20261201101500", *segments])


def mrg(prior_ipp: str) -> str:
    return f"MRG|{prior_ipp}^^^{HOSPITAL}^PI"


@dataclass
class Ack:
    raw: bytes
    message: hl7.Message

    @property
    def code(self) -> str:
        return str(self.message["MSA.F1"])

    @property
    def text(self) -> str:
        """ERR-8: the whole French reason."""
        try:
            return str(self.message["ERR.F8"])
        except KeyError:
            return ""

    def field(self, key: str) -> str:
        return str(self.message[key])


class Client:
    """One MLLP connection: send a message, wait for its acknowledgement."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.socket = socket.create_connection((host, port), timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.socket.close()

    def send_raw(self, data: bytes) -> Ack:
        self.socket.sendall(data)
        buffer = b""
        while not buffer.endswith(END):
            chunk = self.socket.recv(65536)
            assert chunk, "connection closed before the acknowledgement"
            buffer += chunk
        assert buffer.startswith(START), buffer[:20]
        body = buffer[1 : -len(END)]
        return Ack(body, hl7.parse(body.decode(_codec(body))))

    def send(self, text: str, encoding: str = "latin-1") -> Ack:
        return self.send_raw(START + text.encode(encoding) + END)


def _codec(body: bytes) -> str:
    return "utf-8" if b"UNICODE UTF-8" in body.split(b"\r", 1)[0] else "latin-1"
