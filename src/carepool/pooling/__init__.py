"""The pooling tracker: how much of each area's health and care money is pooled, against its
declared trajectory and the national ambition."""
