"""``python -m access_point``: the ``ap`` command line."""

from access_point.cli import main

main()
