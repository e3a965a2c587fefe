"""Cases (petitions and disputes), their parties, timeline, attachments and numbers."""
