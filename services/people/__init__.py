"""People: citizens and staff, their eID sign-in and sessions, CCCD numbers."""
