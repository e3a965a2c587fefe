"""Towns, villages (村/居), grids and units (承办单位)."""
