"""Every PDF the application renders goes through core/pdfrender.py: no network, and one
WeasyPrint font configuration per thread (a new one per render leaked ~0.3 MB each time)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from rcp_app.core import pdfrender

APP = Path(__file__).resolve().parents[1] / "rcp_app"
DIRECT_USE = re.compile(r"weasyprint import .*\bHTML\b|\.write_pdf\(")


def test_no_module_renders_with_weasyprint_directly():
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if path.name != "pdfrender.py" and DIRECT_USE.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_one_font_configuration_per_thread():
    mine = pdfrender.font_config()
    assert pdfrender.font_config() is mine
    other = []
    thread = threading.Thread(target=lambda: other.append(pdfrender.font_config()))
    thread.start()
    thread.join()
    assert other and other[0] is not mine


def test_rendering_reuses_the_configuration(monkeypatch):
    from weasyprint import HTML

    seen = []
    original = HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("font_config"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "write_pdf", spy)
    for _ in range(2):
        assert pdfrender.write_pdf("<p>Ordre du jour</p>").startswith(b"%PDF")
    assert seen[0] is not None and seen[0] is seen[1]
