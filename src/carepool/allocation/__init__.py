"""Allocation: each area's share of the fund, computed, approved and published as runs."""
