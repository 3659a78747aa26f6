"""Open data: the public tables as a Frictionless data package and a 360Giving grants file."""
