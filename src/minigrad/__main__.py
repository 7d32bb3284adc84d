"""``python -m minigrad`` runs the command line."""

from .cli import main

main()
