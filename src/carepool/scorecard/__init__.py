"""An area's public scorecard: money, plan, metrics against England, payments and returns."""
