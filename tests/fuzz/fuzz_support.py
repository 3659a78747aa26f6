"""Running a command as a user does, and telling whether it changed the database.

``run_cli`` runs the real ``carepool`` entry point (``cli.app.main``) in this process: what a
user's command does, less the interpreter's start-up. An exception escaping ``main`` would be
a traceback on the user's screen, so it is left to fail the test.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass

from click.testing import CliRunner
from sqlalchemy import Engine, inspect

from carepool.cli.app import main


@dataclass(frozen=True, slots=True)
class Ran:
    """What a command did: its exit code and everything it printed."""

    code: int
    output: str

    @property
    def said(self) -> str:
        """The output as one line, however the console wrapped it."""
        return " ".join(self.output.split())


def run_cli(args: list[str]) -> Ran:
    """Run ``carepool ARGS`` through its real entry point, capturing what it prints."""
    runner = CliRunner()
    with runner.isolation(env={"COLUMNS": "200", "NO_COLOR": "1"}) as (_, _, output):
        argv, sys.argv = sys.argv, ["carepool", *args]
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.argv = argv
        return Ran(code, output.getvalue().decode("utf-8", "replace"))


def digest(engine: Engine) -> str:
    """A SHA-256 of every row of every table, to tell whether a command changed anything.

    Rows are read through the driver's own cursor: the demo's tens of thousands of rows
    hash in a fraction of a second, which matters when every case hashes twice.
    """
    found = hashlib.sha256()
    with engine.connect() as connection:
        tables = sorted(inspect(connection).get_table_names())
        cursor = connection.connection.cursor()
        try:
            for table in tables:
                cursor.execute(f'SELECT * FROM "{table}"')
                found.update(f"{table}{cursor.fetchall()!r}".encode())
        finally:
            cursor.close()
    return found.hexdigest()
