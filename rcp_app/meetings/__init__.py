"""Meeting sessions of an RCP: the sessions, their calendar, documents and notifications.

Below ``cases`` (a case cites a session); the agenda, which moves cases, is ``rcp_app/agenda``."""
