"""The hash-chained audit log: recording events and verifying the chain."""
