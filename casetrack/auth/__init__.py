"""Users, roles, scoping rules, login and API tokens."""
