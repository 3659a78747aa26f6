"""Integrated personal budgets: NHS and council money blended for one person, its spend,
its pool sub-ledger and the national collections."""
