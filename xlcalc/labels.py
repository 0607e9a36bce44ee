"""Words the user sees, one table per language.

Every client (command line, workbook, report, Excel functions) takes its labels from
here, so a figure is called the same thing everywhere. Keys are English identifiers;
``label(key, lang)`` falls back to English for a key a language lacks.
"""
from __future__ import annotations

from .core import STATUS_LOSS_CUT, STATUS_MARGIN_CALL, STATUS_OK

LANGUAGES = ("ja", "en")

EN = {
    # inputs
    "side": "Side",
    "entry_price": "Entry price",
    "quantity": "Quantity",
    "leverage": "Leverage",
    "deposit": "Deposit",
    "fees": "Unpaid fees",
    "price": "Price",
    "basis": "Margin basis",
    "margin_call_level": "Margin-call level",
    "loss_cut_level": "Loss-cut level",
    "gap_price": "Gap fill price",
    "stop_price": "Stop-loss price",
    "risk": "Risk per trade",
    "exchange": "Exchange preset",
    "symbol": "Symbol",
    "account": "Account",
    # outputs
    "notional": "Notional",
    "required_margin": "Required margin",
    "pnl": "Unrealized P&L",
    "equity": "Equity",
    "ratio": "Maintenance ratio",
    "status": "Status",
    "margin_call_price": "Margin-call price",
    "loss_cut_price": "Loss-cut price",
    "bankruptcy_price": "Bankruptcy price",
    "distance": "Distance",
    "distance_pct": "Distance %",
    "additional_deposit": "Deposit to restore",
    "close_quantity": "Quantity to close",
    "shortfall": "Shortfall at gap",
    "stop_loss_amount": "Loss at stop",
    "position_size": "Position size for risk",
    "liquidation_price": "Liquidation price",
    "move_to_margin_call": "Market move to margin call",
    "move_to_loss_cut": "Market move to loss-cut",
    # values
    "long": "Long",
    "short": "Short",
    "entry": "Entry",
    "mark": "Mark",
    "none": "none",
    STATUS_OK: "OK",
    STATUS_MARGIN_CALL: "Margin call",
    STATUS_LOSS_CUT: "Loss-cut",
    "not_reachable": "never reached",
    "breached": "already breached",
}

JA = {
    "side": "売買",
    "entry_price": "建値",
    "quantity": "数量",
    "leverage": "レバレッジ",
    "deposit": "証拠金",
    "fees": "未払手数料",
    "price": "現在値",
    "basis": "必要証拠金の基準",
    "margin_call_level": "追証ライン",
    "loss_cut_level": "ロスカットライン",
    "gap_price": "窓開け約定価格",
    "stop_price": "逆指値",
    "risk": "許容損失率",
    "exchange": "取引所プリセット",
    "symbol": "銘柄",
    "account": "口座",
    "notional": "建玉金額",
    "required_margin": "必要証拠金",
    "pnl": "評価損益",
    "equity": "有効証拠金",
    "ratio": "証拠金維持率",
    "status": "状態",
    "margin_call_price": "追証価格",
    "loss_cut_price": "ロスカット価格",
    "bankruptcy_price": "破産価格",
    "distance": "距離",
    "distance_pct": "距離 %",
    "additional_deposit": "追加入金額",
    "close_quantity": "一部決済数量",
    "shortfall": "不足金",
    "stop_loss_amount": "逆指値での損失",
    "position_size": "許容損失からの数量",
    "liquidation_price": "清算価格",
    "move_to_margin_call": "追証までの相場変動",
    "move_to_loss_cut": "ロスカットまでの相場変動",
    "long": "買い",
    "short": "売り",
    "entry": "建値",
    "mark": "時価",
    "none": "なし",
    STATUS_OK: "正常",
    STATUS_MARGIN_CALL: "追証",
    STATUS_LOSS_CUT: "ロスカット",
    "not_reachable": "到達しない",
    "breached": "既に到達",
}

TABLES = {"en": EN, "ja": JA}


def label(key: str, lang: str = "en") -> str:
    """The word for ``key`` in ``lang`` ("ja" or "en").

    >>> label("ratio", "ja")
    '証拠金維持率'
    """
    return TABLES.get(lang, EN).get(key) or EN[key]
