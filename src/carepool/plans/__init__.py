"""Joint plans: their content, the rules they must pass, and assurance and approval."""
