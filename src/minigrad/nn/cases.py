"""Layer gradcheck cases (filled in by the layers)."""

CASES = []
