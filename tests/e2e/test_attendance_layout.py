"""The attendance page at laptop widths: every row's « Départ » and « Supprimer » buttons can
be clicked (nothing covers them: the element at the button's centre is the button) and the
page never scrolls sideways."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from tests.support.factories import Factories

from .helpers import expect

SPECIALTIES = ("G15_10/SM36", "G15_10/SM45", "G15_10/SM05", "G15_10/SM01")

# Buttons whose centre is covered, with what covers them (empty when all are reachable).
_COVERED = """
(names) => {
  const covered = [];
  const buttons = [...document.querySelectorAll('#presents button')]
    .filter((b) => names.some((n) => b.textContent.trim().startsWith(n)));
  for (const button of buttons) {
    // Scroll the window only, vertically and at once (never a box sideways: a button hidden
    // in a clipped, scrolled table must count as unreachable).
    const top = button.getBoundingClientRect().top + window.scrollY;
    window.scrollTo({top: top - window.innerHeight / 2, left: 0, behavior: 'instant'});
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!(hit === button || button.contains(hit))) {
      covered.push(button.textContent.trim() + ' → ' + (hit ? hit.outerHTML.slice(0, 80) : 'rien'));
    }
  }
  return {count: buttons.length, covered};
}
"""


@pytest.fixture(scope="module")
def session_id(live_server):
    make = Factories(live_server.app)
    with live_server.app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id).where(Rcp.name == "RCP Sénologie"))
    session = make.session(rcp_id, status="agenda_published")
    establishment = make.establishment(name="Centre hospitalier universitaire de Saint-Étienne")
    for i in range(6):
        professional = make.professional(
            last_name=f"Delacroix-Montmorency{i}",
            first_name="Marie-Françoise",
            specialty_code=SPECIALTIES[i % 4],
            establishment_id=establishment.id,
        )
        make.attendance(session.id, professional.id, mode="remote" if i % 2 else "on_site")
    make.agenda_item(session.id)
    return session.id


@pytest.mark.parametrize("width,height", [(1366, 768), (1280, 800), (1024, 768)])
def test_attendance_buttons_are_reachable(
    sized_page, live_server, session_id, screenshot_dir, width, height
):
    from .conftest import login_on

    page = sized_page(width, height)
    login_on(page, "coordination")
    page.goto(f"/seances/{session_id}/presences")
    expect(page.get_by_role("heading", name="Enregistrer une présence")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"presences-{width}x{height}.png"), full_page=True)

    result = page.evaluate(_COVERED, ["Départ", "Supprimer"])
    assert result["count"] == 12, result  # 6 rows × (Départ + Supprimer)
    assert result["covered"] == [], "\n".join(result["covered"])

    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"défilement horizontal de {overflow} px à {width} px"
