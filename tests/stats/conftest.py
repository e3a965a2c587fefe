"""Fixtures of the statistics tests."""

import pytest
from stats.builder import CaseBuilder


@pytest.fixture
def build(world) -> CaseBuilder:
    return CaseBuilder(world)
