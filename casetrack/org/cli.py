"""``flask users``: user accounts from the command line."""

from __future__ import annotations

import click


@click.group("users")
def users_cli() -> None:
    """User accounts."""
