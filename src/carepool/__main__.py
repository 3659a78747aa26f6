"""``python -m carepool`` is the same as the ``carepool`` command."""

from carepool.cli.app import main

main()
