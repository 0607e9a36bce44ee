"""xlcalc: margin-risk math for leveraged positions, for Python and Excel.

>>> import xlcalc as xc
>>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5)
37500.0

``import xlcalc`` does not import pandas (the command line starts in well under a second):
the modules that need it (presets, perpetuals, inverse contracts) load on first use of one
of their names (PEP 562 ``__getattr__``).
"""

import importlib

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


__all__ = [
    "InputError",
    "unrealized_pnl",
    "required_margin",
    "equity",
    "maintenance_ratio",
    "trigger_price",
    "loss_cut_price",
    "margin_call_price",
    "bankruptcy_price",
    "additional_deposit",
    "close_quantity",
    "shortfall",
    "stop_loss_amount",
    "position_size",
    "holding_cost",
    "status",
    "liquidation_price",
    "account_state",
    "market_move_to_level",
    "AccountState",
    "exchange_presets",
    "get_preset",
    "presets",
    "STATUS_OK",
    "STATUS_MARGIN_CALL",
    "STATUS_LOSS_CUT",
    # perpetuals: tiers, cross margin, inverse
    "tier_table",
    "exchange_tiers",
    "maintenance_margin",
    "cross_account",
    "CrossAccount",
    "inverse",
    "inverse_pnl",
    "inverse_required_margin",
    "inverse_liquidation_price",
    "inverse_bankruptcy_price",
    # safe zone, planning and crypto-backed loans (SPEC §10)
    "STATUS_CAUTION",
    "STATUS_UNKNOWN",
    "DEFAULT_MARGIN_CALL_LEVEL",
    "DEFAULT_LOSS_CUT_LEVEL",
    "DEFAULT_SAFE_LEVEL",
    "leverage_plan",
    "max_quantity",
    "days_to_level",
    "loan_ltv",
    "ltv_price",
    "collateral_to_add",
    "repay_to_target",
    "loan_shortfall",
    "loan_interest",
    "loan_presets",
    "get_loan_preset",
    # venue conventions (SPEC §8)
    "round_to_tick",
    "round_money",
    "tiers",
    "tiers_for_preset",
    "initial_margin",
    "roe",
    "target_price",
    "max_open_quantity",
    "margin_ratio",
]
