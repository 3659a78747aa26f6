"""What every importer shares: reading CSV and XLSX into located rows (:mod:`.tabular`) and
reading the next block while the database stores the last (:mod:`.read_ahead`).

Each capability's importers live in its ``files`` module. Each reads a whole file, collects
every problem with its file, row and column, and either returns domain values or raises
:class:`~carepool.domain.errors.ImportRejected` — never a partial result, so nothing half-read
can reach the store.
"""
