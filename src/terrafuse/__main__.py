"""``python -m terrafuse`` runs the command-line interface."""

from terrafuse.cli import main

main()
