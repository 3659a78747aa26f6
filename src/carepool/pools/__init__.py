"""Section 75 pooled budgets: the ledger, spend imports, returns and year-end settlement."""
