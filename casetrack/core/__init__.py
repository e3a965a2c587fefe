"""Shared machinery with no routes and no domain knowledge."""
