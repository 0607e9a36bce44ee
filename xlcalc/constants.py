"""Constants of the core that the clients starting without numpy need as well.

The default levels and the names of one position's figures live here, not in
:mod:`xlcalc.core`, so that the presets, the template and the command line can read them
without importing numpy; :mod:`xlcalc.core` re-exports them (``xlcalc.core.DEFAULT_SAFE_LEVEL``).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MARGIN_CALL_LEVEL",
    "DEFAULT_LOSS_CUT_LEVEL",
    "DEFAULT_SAFE_LEVEL",
    "POSITION_FIGURES",
]

# The one home of the default levels (fractions); other modules import these.
DEFAULT_MARGIN_CALL_LEVEL = 1.0
DEFAULT_LOSS_CUT_LEVEL = 0.5
DEFAULT_SAFE_LEVEL = 3.0  # "300 % is often called safe" (Coincheck guide, SPEC §10)

# The figures of one position that the core computes, each with the function of that name, and
# that the template shows under the same defined name (in core.__all__ and template.OUTPUT_NAMES).
# fmt: off
POSITION_FIGURES = [
    "margin_call_price", "loss_cut_price", "bankruptcy_price", "additional_deposit",
    "close_quantity", "shortfall", "stop_loss_amount", "position_size",
]
# fmt: on
