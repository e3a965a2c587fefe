"""``flask demo load``: the demo town of Beihe."""

from __future__ import annotations

import click


@click.group("demo")
def demo_cli() -> None:
    """Demo data."""
