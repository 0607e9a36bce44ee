"""xlcalc: margin-risk math for leveraged positions, for Python and Excel.

>>> import xlcalc as xc
>>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5)
37500.0
"""
from . import presets
from .account import AccountState, account_state, market_move_to_level
from .core import (
    STATUS_LOSS_CUT,
    STATUS_MARGIN_CALL,
    STATUS_OK,
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
    shortfall,
    status,
    stop_loss_amount,
    trigger_price,
    unrealized_pnl,
)
from . import inverse
from .inverse import bankruptcy_price as inverse_bankruptcy_price
from .inverse import liquidation_price as inverse_liquidation_price
from .inverse import required_margin as inverse_required_margin
from .inverse import unrealized_pnl as inverse_pnl
from .perpetual import (
    CrossAccount,
    cross_account,
    exchange_tiers,
    liquidation_price,
    maintenance_margin,
    tier_table,
)
from .presets import exchange_presets, get_preset

__version__ = "0.1.0"

__all__ = [
    "InputError", "unrealized_pnl", "required_margin", "equity", "maintenance_ratio",
    "trigger_price", "loss_cut_price", "margin_call_price", "bankruptcy_price",
    "additional_deposit", "close_quantity", "shortfall", "stop_loss_amount",
    "position_size", "holding_cost", "status", "liquidation_price", "account_state",
    "market_move_to_level", "AccountState", "exchange_presets", "get_preset", "presets",
    "STATUS_OK", "STATUS_MARGIN_CALL", "STATUS_LOSS_CUT",
    # perpetuals: tiers, cross margin, inverse
    "tier_table", "exchange_tiers", "maintenance_margin", "cross_account", "CrossAccount",
    "inverse", "inverse_pnl", "inverse_required_margin", "inverse_liquidation_price",
    "inverse_bankruptcy_price",
]
