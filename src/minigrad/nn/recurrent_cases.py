"""Recurrent-layer gradcheck cases."""

CASES = []
