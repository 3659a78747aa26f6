"""Seeded synthetic data for demos and tests: a fictional, England-shaped nation.

Everything here is invented and labelled so. It has the shape of the real thing (151 Health
and Wellbeing Board areas, ~211 CCGs overlapping councils many-to-many, ~55 million people)
so the rest of carepool can be exercised end to end without shipping real reference data,
and the same seed always gives the same nation so tests and demos are reproducible.
"""
