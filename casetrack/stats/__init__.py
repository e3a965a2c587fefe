"""Statistics: read-only figures over cases, as of a cut-off date, for every output."""
