"""``flask cases``: case commands (import lands with the import issue)."""

from __future__ import annotations

import click


@click.group("cases")
def cases_cli() -> None:
    """Case commands."""
