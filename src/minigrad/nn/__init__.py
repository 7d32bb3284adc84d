"""Layers: Modules that own parameters."""
