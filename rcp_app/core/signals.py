"""What a lower package tells the packages above it, without importing them.

The feature packages form layers (tests/test_architecture.py): a lower one never imports a
higher one. When something it does must make a higher one act, it sends one of these signals
and the higher package connects a receiver at import time (the application imports every
package when it starts). Receivers run synchronously, in the sender's transaction: a row they
add is committed or rolled back with the sender's, and an exception they raise refuses the
sender's operation.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# directory -> meetings: an RCP was created or updated; sender: the Rcp. The meetings package
# plans its next sessions (weekly rhythm), so that the case form can offer them.
rcp_saved = _signals.signal("rcp-saved")

# fiches -> delivery: a fiche version was signed and stored; sender: the FicheVersion,
# with case=, rcp=, now=. The delivery outbox queues one transmission per recipient.
fiche_signed = _signals.signal("fiche-signed")

# fiches -> delivery: where were the versions of this fiche sent? sender: the Fiche; each
# receiver returns a list of rows (one query), shown on the fiche's page.
fiche_transmissions = _signals.signal("fiche-transmissions")

# meetings -> delivery: a notification (agenda event) was recorded; sender: the Notification,
# with recipient= (a Professional) and patient_id=. The outbox queues its e-mail.
notification_recorded = _signals.signal("notification-recorded")

# pps -> delivery: a care programme (PPS) version was signed and stored; sender: the
# CarePlanVersion, with case=, rcp=, now=. The outbox queues its transmissions (GP, DCC, DMP).
care_plan_signed = _signals.signal("care-plan-signed")

# pps -> delivery: where were the versions of this care programme sent? sender: the CarePlan;
# receivers return lists of rows, as for fiche_transmissions.
care_plan_transmissions = _signals.signal("care-plan-transmissions")

# delivery -> followups: the delivery worker starts a cycle; sender: the worker's name, with
# now=. Receivers queue what has fallen due (the follow-up reminders) in their own short
# transaction; an exception is logged by the worker and does not stop the deliveries.
delivery_cycle = _signals.signal("delivery-cycle")

# meetings -> decisions: a session is about to be closed; sender: the MeetingSession. A
# receiver raises a DomainError (Conflict) to refuse the closing.
session_closing = _signals.signal("session-closing")


def send(signal, sender, **kwargs) -> None:
    """Send ``signal``; fail loudly when nothing receives it, since a receiver that was never
    connected would silently drop a transmission or a check."""
    if not signal.receivers:
        raise RuntimeError(f"No receiver connected to the {signal.name!r} signal.")
    signal.send(sender, **kwargs)


def collected(signal, sender, **kwargs) -> list:
    """The receivers' answers to ``signal``, concatenated (for the query signals)."""
    if not signal.receivers:
        raise RuntimeError(f"No receiver connected to the {signal.name!r} signal.")
    rows: list = []
    for _receiver, answer in signal.send(sender, **kwargs):
        rows.extend(answer)
    return rows
