"""Fixtures of the report tests."""

import pytest
from stats.builder import CaseBuilder


@pytest.fixture
def build(world) -> CaseBuilder:
    return CaseBuilder(world)
