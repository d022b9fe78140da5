"""``rcp hl7 listen`` in its own process: it announces its port, serves, stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.hl7.support import Client, message, new_ipp, pid

ROOT = Path(__file__).resolve().parents[2]
# The group is registered under ``flask rcp`` by rcp_app/cli.py; run it directly here.
SCRIPT = """
import sys
from flask.cli import ScriptInfo
from rcp_app import create_app
from rcp_app.hl7.cli import hl7_cli

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
hl7_cli.main(args=sys.argv[2:], obj=ScriptInfo(create_app=lambda: app), prog_name="hl7")
"""


def test_listen_command_serves_until_sigterm(feed):
    url = feed.app.config["SQLALCHEMY_DATABASE_URI"]
    env = {
        **os.environ,
        "RCP_SECRET_KEY": "test-secret-key-not-for-production",
        "RCP_AUDIT_KEY": feed.app.config["RCP_AUDIT_KEY"],
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-c", SCRIPT, url, "listen", "--port", "0", "--workers", "2"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"à l'écoute sur 127\.0\.0\.1:(\d+)", line)
        assert match, line
        with Client(int(match.group(1))) as client:
            answer = client.send(message("A28", pid(new_ipp(), reliability="PROV")))
        assert answer.code == "AA"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Récepteur HL7 arrêté." in output
