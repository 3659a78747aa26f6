"""The personal budgets service: what the command line and the web pages call.

Every function takes the session of the caller's unit of work (it never commits) and the
:class:`~carepool.domain.roles.Principal` acting; refusals are
:class:`~carepool.domain.errors.CarepoolError` subclasses carrying every problem.

Setting up
    :func:`create_budget` (one budget, NHS number pseudonymised on entry),
    :func:`import_budgets` (a budgets file), :func:`change_status` (suspend, resume, end).
Reading
    :func:`list_budgets` (an area's budgets), :func:`get_budget`, :func:`budget_detail`
    (support plan, history, spend), :func:`overspent`.
Spend
    :func:`import_transactions` (a transactions file, posted to the pools' sub-ledgers).
Reports
    :func:`quarter_report` (the national collection and the council's direct-payment
    measure, with the sub-ledger proof), :func:`ledger_agreement`.
Who may
    :func:`may_manage`, :func:`may_read`.
"""

from carepool.budgets.repository import BudgetRow as BudgetRow
from carepool.budgets.service.budgets import BudgetDetail as BudgetDetail
from carepool.budgets.service.budgets import BudgetImport as BudgetImport
from carepool.budgets.service.budgets import BudgetRequest as BudgetRequest
from carepool.budgets.service.budgets import budget_detail as budget_detail
from carepool.budgets.service.budgets import change_status as change_status
from carepool.budgets.service.budgets import create_budget as create_budget
from carepool.budgets.service.budgets import get_budget as get_budget
from carepool.budgets.service.budgets import import_budgets as import_budgets
from carepool.budgets.service.budgets import list_budgets as list_budgets
from carepool.budgets.service.budgets import may_manage as may_manage
from carepool.budgets.service.budgets import may_read as may_read
from carepool.budgets.service.budgets import overspent as overspent
from carepool.budgets.service.reports import PoolAgreement as PoolAgreement
from carepool.budgets.service.reports import QuarterReport as QuarterReport
from carepool.budgets.service.reports import ledger_agreement as ledger_agreement
from carepool.budgets.service.reports import quarter_report as quarter_report
from carepool.budgets.service.transactions import TransactionImport as TransactionImport
from carepool.budgets.service.transactions import import_transactions as import_transactions
