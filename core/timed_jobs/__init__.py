"""Scheduled work (reply reminders, stale releases, the admin digest) safe with many processes."""
