"""Payment runs, their status and their explanations."""
