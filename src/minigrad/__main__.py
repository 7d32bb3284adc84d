"""``python -m minigrad`` runs the command line."""

from .tool.cli import main

main()
