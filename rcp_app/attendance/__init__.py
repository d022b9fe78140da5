"""Attendance at a meeting session and the quorum computed from it."""
