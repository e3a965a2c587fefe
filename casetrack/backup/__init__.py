"""Backup and restore: one archive holding the database and the attachments folder."""
