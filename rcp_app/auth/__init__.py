"""Users, roles, login, two-factor authentication and lockout."""
