"""The closed loop: what became of each validated RCP proposal (treatment started, changed,
not started, patient lost to follow-up or deceased), with reminders when nobody says."""
