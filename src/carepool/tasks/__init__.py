"""Each signed-in person's tasks: what needs them now, declared once per role."""
