"""One table of argument help: what each argument of the public API means, in each language.

The Excel function wizard (:mod:`xlcalc.udfs`), the command line's ``--help`` and the
template's input notes all read their argument help from here, so an argument added to a
core function needs one entry in :data:`HELP` (both languages) and, if it is not a plain
number, one in :data:`KIND`.

* ``help_text(name, lang)`` is the help for an argument name; ``function=`` picks a wording
  a function needs for its own sense of the name (``position_size``'s ``leverage`` is a
  cap); ``default=`` adds "Optional" and the default the core gives.
* ``kind(name)`` says what a cell of it holds: ``"number"``, ``"text"`` (words such as
  long/short), ``"level"`` (a fraction or the word none/なし) or ``"table"`` (a whole
  range, e.g. tier rows).

Texts stay under Excel's 255-character limit for argument help, the default included.

Examples
--------
>>> from xlcalc import arguments
>>> arguments.help_text("leverage")
'Leverage (レバレッジ), > 0: required margin = notional / leverage.'
>>> arguments.help_text("fees", "ja", default=0.0)
'省略可。未払いの費用（手数料・レバレッジ手数料・資金調達料）、0 以上。既定値 0。'
>>> arguments.kind("side"), arguments.kind("tiers")
('text', 'table')
"""

from __future__ import annotations

import inspect

from .labels import LANGUAGES

__all__ = ["HELP", "KIND", "KINDS", "LANGUAGES", "help_text", "kind", "names"]

REQUIRED = inspect.Parameter.empty

EN = {
    # a position
    "deposit": "Deposit / collateral (預託証拠金), >= 0, in the account currency.",
    "side": "Side (売買): long/short, buy/sell, 買い/売り or +1/-1.",
    "entry_price": "Entry price (建値), > 0.",
    "price": "Current, mark or scenario price (現在値), > 0.",
    "quantity": "Position size in base units (数量), > 0.",
    "leverage": "Leverage (レバレッジ), > 0: required margin = notional / leverage.",
    "basis": "Margin basis: entry (建値) or mark (時価).",
    "fees": "Accrued unpaid costs (fees, leverage fee, funding), >= 0.",
    "level": "Level as a fraction of required margin (0.5 = 50 %).",
    "target": "Ratio to restore, as a fraction (1 = 100 %).",
    "fill_price": "Price the position was closed at on a gap, > 0.",
    "capital": "Trading capital, > 0.",
    "risk": "Fraction of capital to risk, 0 < risk <= 1 (0.02 = 2 %).",
    "stop_price": "Stop-loss price (逆指値), > 0, not equal to entry_price.",
    "daily_rate": "Daily fee rate on the notional as a fraction (0.0004 = 0.04 %/day), >= 0.",
    "days": "Number of days held, >= 0.",
    "ratio": "Maintenance ratio as a fraction (2.27 = 227 %).",
    "margin_call_level": "Margin-call level as a fraction (1 = 100 %). Text none/なし: no margin call.",
    "loss_cut_level": "Loss-cut level as a fraction (0.5 = 50 %). Text none/なし: no loss-cut.",
    "safe_level": "Safe level as a fraction (3 = 300 %): below it the status is caution. "
    "Empty: no safe zone.",
    # venue conventions (SPEC §8)
    "tick_size": "Price tick; the price is rounded to it conservatively (a long's up, a short's down). "
    "Empty: no rounding.",
    "quote_rate": "Account currency per unit of the quote currency (EUR/USD in a JPY account: USD/JPY), > 0.",
    "mm_basis": "Price the maintenance margin is valued at: mark (Binance, Bybit UTA) or entry "
    "(Bybit classic).",
    "hedge": "Margin of hedged positions (両建て): sum (every leg) or max (the larger side per symbol).",
    "symbol": "Symbol of the position, e.g. BTCUSDT.",
    "margin_rounding": "How the venue rounds the required margin: none or floor (down to money_unit).",
    "money_unit": "Smallest money amount for rounding (1 for JPY, 0.01 for USD), > 0.",
    # perpetuals
    "wallet_balance": "Wallet balance backing the position (isolated: position margin); below 0 only "
    "for a cross account in debt.",
    "mmr": "Maintenance margin rate as a fraction (0.004 = 0.4 %); may be empty with tiers.",
    "maintenance_amount": "The tier's maintenance amount (cum), >= 0.",
    "other_maintenance": "Cross margin: the other positions' maintenance margin, >= 0.",
    "other_pnl": "Cross margin: the other positions' unrealized P&L.",
    "tiers": "Tier table: rows of floor, cap, mmr[, maintenance amount]; a header row is allowed.",
    "taker_fee": "Taker fee rate to close as a fraction (0.0005 = 0.05 %), >= 0.",
    "contracts": "Number of contracts (inverse contracts), > 0.",
    "contract_value": "Value of one contract in the quote currency (e.g. 1 USD, 100 USD), > 0.",
    "positions": "Table of positions: side, entry_price, quantity, mark price, mmr ... one row each.",
    # planning (SPEC §10)
    "effective_leverage": "Effective leverage: notional / deposit (1 = a position worth the deposit), > 0.",
    # crypto-backed loans (SPEC §10)
    "loan": "Amount borrowed (借入額), >= 0, in the loan currency.",
    "collateral_quantity": "Collateral held, in coins (担保数量), > 0.",
    "interest": "Interest accrued and unpaid (未払利息), >= 0.",
    "liquidation_fee": "Liquidation fee as a fraction of the collateral sold (0.02 = 2 %), >= 0.",
    "annual_rate": "Interest rate per year as a fraction (0.08 = 8 %/year), >= 0.",
    # presets and the surfaces
    "exchange_id": "Preset id, e.g. bitflyer_cfd, gmo_coin_fx (see xlcalc exchanges).",
    "preset_id": "Loan preset id (see xlcalc loan presets).",
    "field": "Preset column, e.g. loss_cut_level, margin_call_level, basis, max_leverage, source_url.",
    "path": "A presets file of your own (CSV), added to the built-in presets.",
    "lang": "Language of the words: en or ja.",
    # wordings one function needs for its own sense of an argument
    "loss_cut_price.level": "Loss-cut level as a fraction of required margin (0.5 = 50 %, GMO Coin 0.75).",
    "margin_call_price.level": "Margin-call level as a fraction of required margin (1 = 100 %).",
    "required_margin.price": "Price the margin is computed on: entry price (entry basis) or current price "
    "(mark basis), > 0.",
    "position_size.entry_price": "Planned entry price, > 0.",
    "position_size.leverage": "Leverage cap: the size is at most capital x leverage / entry_price. "
    "Empty: no cap.",
    "leverage_plan.safe_level": "Safe level as a fraction (3 = 300 %) for the safe_price column. "
    "Text none/なし: no safe level.",
    "ltv_price.level": "LTV level as a fraction (0.8 = 80 %): margin call or liquidation LTV.",
    "collateral_to_add.target": "LTV to get back to, as a fraction (0.65 = 65 %).",
    "repay_to_target.target": "LTV to get back to, as a fraction (0.65 = 65 %).",
    "loan_ltv.price": "Price of the collateral, > 0.",
    "collateral_to_add.price": "Price of the collateral, > 0.",
    "repay_to_target.price": "Price of the collateral, > 0.",
    "loan_shortfall.fill_price": "Price the collateral is sold at in the liquidation (a gap), > 0.",
    # futures-calculator figures (perpetual.py)
    "balance": "Available balance to open with, in the margin currency, > 0.",
    "roe": "Wanted return on the initial margin, as a fraction (0.5 = +50 %, -0.2 = -20 %).",
    "amount": "An amount of money in the account currency.",
    "target_price.pnl": "Wanted P&L in the margin currency (negative: a loss).",
}

JA = {
    "deposit": "預託証拠金（口座通貨）、0 以上。",
    "side": "売買：買い/売り、long/short、buy/sell または +1/-1。",
    "entry_price": "建値、正の数。",
    "price": "現在値・マーク価格・想定価格、正の数。",
    "quantity": "数量（基軸通貨の単位）、正の数。",
    "leverage": "レバレッジ、正の数：必要証拠金 = 建玉金額 ÷ レバレッジ。",
    "basis": "証拠金の基準：建値（entry）または時価（mark）。",
    "fees": "未払いの費用（手数料・レバレッジ手数料・資金調達料）、0 以上。",
    "level": "水準（必要証拠金に対する割合、0.5 = 50 %）。",
    "target": "回復させる証拠金維持率（割合、1 = 100 %）。",
    "fill_price": "窓開けで決済された価格、正の数。",
    "capital": "運用資金、正の数。",
    "risk": "1 回の取引で許容する損失の割合、0 より大きく 1 以下（0.02 = 2 %）。",
    "stop_price": "逆指値（損切り価格）、正の数、建値と異なる値。",
    "daily_rate": "建玉金額に対する 1 日あたりの手数料率（0.0004 = 0.04 %/日）、0 以上。",
    "days": "保有日数、0 以上。",
    "ratio": "証拠金維持率（割合、2.27 = 227 %）。",
    "margin_call_level": "追証ライン（割合、1 = 100 %）。文字 none/なし：追証なし。",
    "loss_cut_level": "ロスカットライン（割合、0.5 = 50 %）。文字 none/なし：ロスカットなし。",
    "safe_level": "安全ライン（割合、3 = 300 %）：これを下回ると「注意」。空欄：安全ラインなし。",
    "tick_size": "呼値（ティック）。価格を安全側に丸めます（買いは切り上げ、売りは切り捨て）。"
    "空欄：丸めない。",
    "quote_rate": "決済通貨 1 単位あたりの口座通貨（円口座の EUR/USD なら USD/JPY）、正の数。",
    "mm_basis": "維持証拠金の評価価格：mark（Binance、Bybit UTA）または entry（Bybit クラシック）。",
    "hedge": "両建ての証拠金：sum（全建玉の合計）または max（銘柄ごとに多い側のみ）。",
    "symbol": "銘柄（例：BTCUSDT）。",
    "margin_rounding": "必要証拠金の端数処理：none（しない）または floor（money_unit 単位で切り捨て）。",
    "money_unit": "端数処理の最小単位（円なら 1、USD なら 0.01）、正の数。",
    "wallet_balance": "ウォレット残高（分離マージンではポジション証拠金）。"
    "負はクロスの口座が借りている場合のみ。",
    "mmr": "維持証拠金率（割合、0.004 = 0.4 %）。ティア表があれば空欄可。",
    "maintenance_amount": "ティアの維持証拠金控除額（cum）、0 以上。",
    "other_maintenance": "クロスマージン：他のポジションの維持証拠金、0 以上。",
    "other_pnl": "クロスマージン：他のポジションの評価損益。",
    "tiers": "ティア表：下限・上限・維持証拠金率［・控除額］の行。見出し行があっても可。",
    "taker_fee": "決済時のテイカー手数料率（割合、0.0005 = 0.05 %）、0 以上。",
    "contracts": "契約数（インバース契約）、正の数。",
    "contract_value": "1 契約の価値（決済通貨建て、例：1 USD、100 USD）、正の数。",
    "positions": "ポジションの表：売買・建値・数量・マーク価格・維持証拠金率など、1 行に 1 ポジション。",
    "effective_leverage": "実効レバレッジ：建玉金額 ÷ 証拠金（1 = 証拠金と同額の建玉）、正の数。",
    "loan": "借入額（借入通貨建て）、0 以上。",
    "collateral_quantity": "担保数量（コイン）、正の数。",
    "interest": "未払利息、0 以上。",
    "liquidation_fee": "清算手数料（売却される担保に対する割合、0.02 = 2 %）、0 以上。",
    "annual_rate": "年利（割合、0.08 = 年 8 %）、0 以上。",
    "exchange_id": "プリセット ID（例：bitflyer_cfd、gmo_coin_fx。xlcalc exchanges で一覧）。",
    "preset_id": "ローンのプリセット ID。",
    "field": "プリセットの列（例：loss_cut_level、margin_call_level、basis、max_leverage、source_url）。",
    "path": "独自のプリセットファイル（CSV）。組み込みのプリセットに追加されます。",
    "lang": "表示言語：en または ja。",
    "loss_cut_price.level": "ロスカットライン（必要証拠金に対する割合、0.5 = 50 %、GMO コインは 0.75）。",
    "margin_call_price.level": "追証ライン（必要証拠金に対する割合、1 = 100 %）。",
    "required_margin.price": "証拠金を計算する価格：建値基準なら建値、時価基準なら現在値。正の数。",
    "position_size.entry_price": "予定の建値、正の数。",
    "position_size.leverage": "レバレッジの上限：数量は 運用資金 × レバレッジ ÷ 建値 まで。空欄：上限なし。",
    "leverage_plan.safe_level": "安全ライン（割合、3 = 300 %）。safe_price 列に使います。"
    "文字 none/なし：なし。",
    "ltv_price.level": "LTV の水準（割合、0.8 = 80 %）：追証またはロスカットの LTV。",
    "collateral_to_add.target": "戻したい LTV（割合、0.65 = 65 %）。",
    "repay_to_target.target": "戻したい LTV（割合、0.65 = 65 %）。",
    "loan_ltv.price": "担保の価格、正の数。",
    "collateral_to_add.price": "担保の価格、正の数。",
    "repay_to_target.price": "担保の価格、正の数。",
    "loan_shortfall.fill_price": "清算で担保が売られる価格（窓開け）、正の数。",
    # 先物計算機の数値（perpetual.py）
    "balance": "新規建てに使える残高（証拠金の通貨）、正の数。",
    "roe": "目標の ROE（当初証拠金に対する損益の割合、0.5 = +50 %、-0.2 = -20 %）。",
    "amount": "口座通貨の金額。",
    "target_price.pnl": "目標の損益（証拠金の通貨、損失は負）。",
}

HELP = {"en": EN, "ja": JA}

# What a cell of the argument holds, where it is not a plain number.
KINDS = ("number", "text", "level", "table")
KIND = {
    "side": "text",
    "basis": "text",
    "mm_basis": "text",
    "hedge": "text",
    "symbol": "text",
    "exchange_id": "text",
    "field": "text",
    "path": "text",
    "lang": "text",
    "margin_call_level": "level",
    "loss_cut_level": "level",
    "safe_level": "level",
    "margin_rounding": "text",
    "preset_id": "text",
    "tiers": "table",
    "positions": "table",
}

# Words around the help when the argument has a default.
_OPTIONAL = {"en": "Optional. ", "ja": "省略可。"}
_DEFAULT = {"en": " Default {}.", "ja": "既定値 {}。"}


def names():
    """Every argument name the table explains (function-specific wordings left out)."""
    return sorted(k for k in EN if "." not in k)


def kind(name):
    """``"number"``, ``"text"``, ``"level"`` or ``"table"``: what a cell of ``name`` holds."""
    return KIND.get(name, "number")


def _shown(default):
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def help_text(name, lang="en", *, function=None, default=REQUIRED):
    """The help for argument ``name`` in ``lang`` ("en" or "ja").

    ``function`` (a core function's name) picks that function's own wording if it has one.
    ``default`` (the core's default, if the argument is optional) adds "Optional." and,
    unless it is None (whose meaning the help says), the default value.

    >>> help_text("level", function="loss_cut_price")
    'Loss-cut level as a fraction of required margin (0.5 = 50 %, GMO Coin 0.75).'
    >>> help_text("target", default=1.0)
    'Optional. Ratio to restore, as a fraction (1 = 100 %). Default 1.'
    >>> help_text("no_such_argument")
    Traceback (most recent call last):
    ...
    KeyError: "no help for argument 'no_such_argument': add it to xlcalc.arguments.EN and JA"
    """
    table = HELP[lang]
    text = table.get(f"{function}.{name}") if function else None
    if text is None:
        try:
            text = table[name]
        except KeyError:
            raise KeyError(f"no help for argument {name!r}: add it to xlcalc.arguments.EN and JA") from None
    if default is REQUIRED:
        return text
    text = _OPTIONAL[lang] + text
    return text if default is None else text + _DEFAULT[lang].format(_shown(default))
