"""The ``carepool`` command line: the root in :mod:`carepool.cli.app`, shared options in
:mod:`carepool.cli.common`, and each capability's commands in its own ``cli`` module."""
