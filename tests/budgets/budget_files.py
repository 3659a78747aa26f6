"""Budgets and transactions files for the tests, written as the documented format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WriteFile = Callable[[str, str], Path]
"""Writes a file of the given name and text into the test's folder."""

BUDGET_HEADER = (
    "reference,area,nhs_number,eligibility,starts,ends,review_due,total,nhs_amount,"
    "nhs_holding,council_amount,council_holding,support_plan"
)

# Valid NHS numbers (correct check digit), of the kind the NHS publishes for testing.
NHS_NUMBERS = ("9434765919", "9434765870", "9434765889", "9434765897", "9434765900")


def budgets_csv(area: str, other: str) -> str:
    """Four budgets: a CHC notional one, a blended direct payment, a wheelchair budget and a
    council-only one in the second area."""
    return "\n".join(
        [
            BUDGET_HEADER,
            f"PB-1,{area},{NHS_NUMBERS[0]},continuing_healthcare,2015-04-01,2016-03-31,"
            "2015-10-01,12000.00,12000.00,notional,,,Nursing care: 10000; Equipment: 2000",
            f"PB-2,{area},{NHS_NUMBERS[1]},section_117_aftercare,2015-05-01,2015-12-31,"
            "2015-09-01,6000.00,4000.00,direct_payment,2000.00,direct_payment,"
            "Personal assistant: 5000; Respite: 1000",
            f"PB-3,{area},{NHS_NUMBERS[2]},wheelchair,2015-06-01,2016-03-31,2016-01-01,"
            "1500.50,1500.50,third_party,,,Wheelchair: 1500.50",
            f"PB-4,{other},{NHS_NUMBERS[3]},council_eligible_needs,2015-04-01,2016-03-31,"
            "2015-10-01,8000.00,,,8000.00,council_managed,Home care: 8000",
        ]
    )


TRANSACTION_HEADER = "budget,date,kind,part,amount,reference"
