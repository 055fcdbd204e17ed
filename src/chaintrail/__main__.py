"""``python -m chaintrail`` runs the CLI."""

from chaintrail.cli import main

main()
