"""xlcalc: margin-risk math for leveraged positions, for Python and Excel.

>>> import xlcalc as xc
>>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5)
37500.0

``import xlcalc`` does not import pandas (the command line starts in well under a second):
the modules that need it (presets, perpetuals, inverse contracts) load on first use of one
of their names (PEP 562 ``__getattr__``).
"""

import importlib

from . import account, core, loans, planning
from .account import AccountState, account_state, market_move_to_level
from .core import (
    DEFAULT_LOSS_CUT_LEVEL,
    DEFAULT_MARGIN_CALL_LEVEL,
    DEFAULT_SAFE_LEVEL,
    STATUS_CAUTION,
    STATUS_LOSS_CUT,
    STATUS_MARGIN_CALL,
    STATUS_OK,
    STATUS_UNKNOWN,
    InputError,
    additional_deposit,
    bankruptcy_price,
    close_quantity,
    equity,
    holding_cost,
    loss_cut_price,
    maintenance_ratio,
    margin_call_price,
    position_size,
    required_margin,
    round_money,
    round_to_tick,
    shortfall,
    status,
    stop_loss_amount,
    trigger_price,
    unrealized_pnl,
)
from .loans import (
    collateral_to_add,
    get_loan_preset,
    loan_interest,
    loan_ltv,
    loan_presets,
    loan_shortfall,
    ltv_price,
    repay_to_target,
)
from .planning import days_to_level, leverage_plan, max_quantity

__version__ = "0.1.0"

# name -> (module, attribute or None for the module itself); loaded on first use
_LAZY = {
    "presets": ("presets", None),
    "exchange_presets": ("presets", "exchange_presets"),
    "get_preset": ("presets", "get_preset"),
    "perpetual": ("perpetual", None),
    "tier_table": ("perpetual", "tier_table"),
    "exchange_tiers": ("perpetual", "exchange_tiers"),
    "maintenance_margin": ("perpetual", "maintenance_margin"),
    "cross_account": ("perpetual", "cross_account"),
    "CrossAccount": ("perpetual", "CrossAccount"),
    "liquidation_price": ("perpetual", "liquidation_price"),
    "inverse": ("inverse", None),
    "inverse_pnl": ("inverse", "unrealized_pnl"),
    "inverse_required_margin": ("inverse", "required_margin"),
    "inverse_liquidation_price": ("inverse", "liquidation_price"),
    "inverse_bankruptcy_price": ("inverse", "bankruptcy_price"),
    # venue conventions (SPEC §8): one tier choice per preset, the futures-calculator figures
    "tiers": ("tiers", None),
    "tiers_for_preset": ("tiers", "for_preset"),
    "initial_margin": ("perpetual", "initial_margin"),
    "roe": ("perpetual", "roe"),
    "target_price": ("perpetual", "target_price"),
    "max_open_quantity": ("perpetual", "max_open_quantity"),
    "margin_ratio": ("perpetual", "margin_ratio"),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'xlcalc' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# The public names: each eager module's own list (less its building blocks, still reachable as
# e.g. xlcalc.core.parse_side) and the lazy names (less the perpetual module, reached by its functions)
_NOT_EXPORTED = {
    "parse_side",
    "parse_basis",
    "MARGIN_ROUNDINGS",
    "LOAN_PRESET_COLUMNS",
    "PLAN_COLUMNS",
    "perpetual",
}
__all__ = [
    name
    for names in (core.__all__, account.__all__, planning.__all__, loans.__all__, _LAZY)
    for name in names
    if name not in _NOT_EXPORTED
]
