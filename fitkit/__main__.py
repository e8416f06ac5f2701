"""``python -m fitkit`` runs the command-line interface."""

from fitkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
