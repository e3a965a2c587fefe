"""Reports: the monthly summary and case sheets (PDF), the ledger (xlsx/CSV), report sentences."""
