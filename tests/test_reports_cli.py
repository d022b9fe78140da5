"""``flask rcp indicators``: the scheduled export, in each format, and its refusals."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from rcp_app.reports.cli import indicators_command


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def _run(*args):
        return runner.invoke(indicators_command, list(args))

    return _run


def test_csv_json_and_xlsx(run, make, tmp_path):
    rcp = make.rcp(name="RCP Commande")
    out = tmp_path / "i.csv"
    result = run(
        "--from", "2025-01-01", "--to", "31/12/2025", "--rcp", str(rcp.id), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "écrits dans" in result.output
    text = out.read_bytes()
    assert text.startswith("\ufeff".encode())
    body = text.decode("utf-8-sig")
    assert body.startswith("Rubrique;Indicateur;Valeur")
    assert "Activité par RCP" in body and "RCP Commande" in body

    out = tmp_path / "i.json"
    assert (
        run(
            "--from", "2025-01-01", "--to", "2025-03-31", "--format", "json", "--out", str(out)
        ).exit_code
        == 0
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["period"]["label"] == "du 01/01/2025 au 31/03/2025"
    figures = {f["key"]: f for s in data["sections"] for f in s["figures"]}
    assert figures["activity.cases_presented"]["value"] == 0
    assert figures["activity.cases_presented"]["definition"]

    out = tmp_path / "i.xlsx"
    assert (
        run(
            "--from", "2025-01-01", "--to", "2025-03-31", "--format", "xlsx", "--out", str(out)
        ).exit_code
        == 0
    )
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames[0] == "Indicateurs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-02-30", "--to", "2025-03-01"), "date"),
        (("--from", "2025-03-01", "--to", "2025-02-01"), "précède"),
        (("--from", "2025-01-01", "--to", "2025-02-01", "--rcp", "999999"), "RCP inconnue"),
        (("--from", "2025-01-01", "--to", "2025-02-01", "--format", "pdf"), "pdf"),
    ],
)
def test_refusals(run, tmp_path, args, message):
    out = tmp_path / "x"
    result = run(*args, "--out", str(out))
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()
