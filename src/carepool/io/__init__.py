"""Staged importers and exporters: the shell between files people send and the pure domain.

Each importer reads a whole file, collects every problem with its file, row and column, and
either returns domain values or raises :class:`~carepool.domain.errors.ImportRejected` —
never a partial result, so nothing half-read can reach the store.
"""
