"""xlcalc: margin-risk math for leveraged positions, for Python and Excel.

>>> import xlcalc as xc
>>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5)
37500.0

``import xlcalc`` imports neither numpy nor pandas: every name loads its module on first use
(PEP 562 ``__getattr__``), so the command line and the template start without them.
"""

import importlib

__version__ = "0.1.0"

# The public names, by the module that holds them, each loaded on first use. InputError, the
# default levels and the loan presets come from modules without numpy (core and loans re-export them).
# tests/test_startup.py checks these lists against each module's own __all__.
# fmt: off
_HOMES = {
    "errors": ("InputError",),
    "constants": ("DEFAULT_LOSS_CUT_LEVEL", "DEFAULT_MARGIN_CALL_LEVEL", "DEFAULT_SAFE_LEVEL"),
    "core": (
        "STATUS_CAUTION", "STATUS_LOSS_CUT", "STATUS_MARGIN_CALL", "STATUS_OK", "STATUS_UNKNOWN",
        "additional_deposit", "bankruptcy_price", "close_quantity", "equity", "holding_cost",
        "loss_cut_price", "maintenance_ratio", "margin_call_price", "position_size", "required_margin",
        "round_money", "round_to_tick", "shortfall", "status", "stop_loss_amount", "trigger_price",
        "unrealized_pnl",
    ),
    "account": ("AccountState", "account_state", "market_move_to_level"),
    "planning": ("days_to_level", "leverage_plan", "max_quantity"),
    "loans": (
        "collateral_to_add", "loan_interest", "loan_ltv", "loan_shortfall", "ltv_price", "repay_to_target",
    ),
    "presets": ("exchange_presets", "get_loan_preset", "get_preset", "loan_presets"),
    "perpetual": (
        "CrossAccount", "cross_account", "exchange_tiers", "initial_margin", "liquidation_price",
        "maintenance_margin", "margin_ratio", "max_open_quantity", "roe", "target_price", "tier_table",
    ),
}
# fmt: on

# name -> (module, attribute or None for the module itself)
_LAZY = {name: (module, name) for module, names in _HOMES.items() for name in names} | {
    "presets": ("presets", None),
    "inverse": ("inverse", None),
    "inverse_pnl": ("inverse", "unrealized_pnl"),
    "inverse_required_margin": ("inverse", "required_margin"),
    "inverse_liquidation_price": ("inverse", "liquidation_price"),
    "inverse_bankruptcy_price": ("inverse", "bankruptcy_price"),
    # venue conventions (SPEC §8): one tier choice per preset, the futures-calculator figures
    "tiers": ("tiers", None),
    "tiers_for_preset": ("tiers", "for_preset"),
}
# modules reachable as attributes (xlcalc.core.parse_side) but not exported by ``import *``
_MODULES = ("account", "core", "loans", "planning", "perpetual", "labels", "_inputs")
__all__ = list(_LAZY)
_LAZY.update({module: (module, None) for module in _MODULES})


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
