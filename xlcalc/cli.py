"""Command line: ``xlcalc calc | liq | exchanges | template | report`` (SPEC §7).

A thin client of the core: it parses options as people type them (:mod:`xlcalc.human`),
calls the core and prints at the instrument's precision (:mod:`xlcalc.display`). Errors are
one line on stderr and exit code 2, never a traceback, in the command's language.

Start-up is kept short: numpy (the core), pandas, openpyxl and xlwings are imported only
inside the commands that need them (see benchmarks/bench_cli.py).
"""

from __future__ import annotations

import math
import os
import sys
import unicodedata

import click

from .arguments import help_text
from .constants import DEFAULT_SAFE_LEVEL
from .display import Display, price_decimals
from .errors import InputError
from .human import (
    default_language,
    parse_level,
    parse_leverage,
    parse_number,
    parse_percent,
    parse_rate,
    typed_decimals,
)
from .labels import LANGUAGES, error_text, label
from .presets import COLUMNS, account_currency, get_preset, money_rounding, preset_rows, resolve_levels

_LANG_KEY = "xlcalc.lang"
_DECIMALS_KEY = "xlcalc.price_decimals"


def _lang_of(ctx) -> str:
    lang = ctx.meta.get(_LANG_KEY) if ctx is not None else None
    return lang or default_language(None)


def _one_line_usage(exc: click.UsageError, lang: str) -> str:
    """Click's usage errors as one line in the command's language."""
    ctx = exc.ctx
    command = f"xlcalc {ctx.info_name}" if ctx is not None and ctx.parent is not None else "xlcalc"
    param = getattr(exc, "param", None)
    option = (param.opts[0] if param.opts else param.name) if param is not None else None
    if isinstance(exc, click.exceptions.MissingParameter) and option:
        message = label("cli_missing_option", lang).format(option=option)
    elif isinstance(exc, click.exceptions.NoSuchOption):
        message = label("cli_no_such_option", lang).format(option=exc.option_name)
    elif isinstance(exc, click.BadParameter) and option and isinstance(param.type, click.Choice):
        value = exc.message.split("'")[1] if exc.message.count("'") >= 2 else ""
        message = label("cli_bad_choice", lang).format(
            option=option, value=value, choices=", ".join(map(str, param.type.choices))
        )
    elif isinstance(exc, click.BadParameter) and option:
        message = label("cli_bad_value", lang).format(option=option, message=exc.message)
    else:
        message = exc.format_message()
    return f"{message} ({command} --help)"


# The option that feeds each core argument, so that an error names what the user typed.
_OPTION_OF = {
    "side": "--side",
    "entry_price": "--entry",
    "quantity": "--qty",
    "leverage": "--leverage",
    "deposit": "--deposit",
    "price": "--price",
    "fees": "--fees",
    "basis": "--basis",
    "stop_price": "--stop",
    "fill_price": "--gap-price",
    "risk": "--risk",
    "daily_rate": "--daily-fee",
    "days": "--days",
    "tick_size": "--tick",
    "quote_rate": "--quote-rate",
    "wallet_balance": "--wallet",
    "mmr": "--mmr",
    "maintenance_amount": "--cum",
    "taker_fee": "--taker-fee",
    "other_maintenance": "--other-maintenance",
    "other_pnl": "--other-pnl",
    "contracts": "--contracts",
    "contract_value": "--contract-value",
    "mm_basis": "--mm-basis",
    "effective_leverage": "--effective",
    "loan": "--loan",
    "collateral_quantity": "--collateral",
    "interest": "--interest",
    "annual_rate": "--annual-rate",
    "liquidation_fee": "--liquidation-fee",
    "balance": "--balance",
    "symbol": "--symbol",
}


def _error_line(exc, lang: str) -> str:
    """A core error with the option that fed the argument in front, in ``lang``; the row of an
    array is left out (each option is one value)."""
    argument = getattr(exc, "argument", None)
    option = _OPTION_OF.get(argument)
    if option is None or getattr(exc, "expected", None) is None:
        return error_text(exc, lang)
    bare = InputError(
        str(exc).split(" at row ")[0], argument=argument, expected=exc.expected, value=exc.value
    )
    return f"{option}: {error_text(bare, lang)}"


class _Group(click.Group):
    """Turns xlcalc's errors and click's usage errors into one clear line instead of a
    traceback or a usage block, in the command's language; a closed pipe ends quietly."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # `xlcalc exchanges | head`: the reader has gone; stop like other Unix tools
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except click.UsageError as exc:
            click.echo(f"xlcalc: error: {_one_line_usage(exc, _lang_of(ctx))}", err=True)
            ctx.exit(2)
        except (InputError, OSError) as exc:
            click.echo(f"xlcalc: error: {_error_line(exc, _lang_of(ctx))}", err=True)
            ctx.exit(2)


class _Human(click.ParamType):
    """An option value as a person types it, parsed by :mod:`xlcalc.human`."""

    def __init__(self, name, parse, price=False, **options):
        self.name, self.parse, self.price, self.options = name, parse, price, options

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        option = param.opts[0] if param is not None and param.opts else self.name
        result = self.parse(value, option, _lang_of(ctx), **self.options)
        if self.price and ctx is not None:
            ctx.meta.setdefault(_DECIMALS_KEY, []).append(typed_decimals(value))
        return result


PRICE = _Human("price", parse_number, price=True, positive=True)
NUMBER = _Human("number", parse_number)
AMOUNT = _Human("amount", parse_number, nonnegative=True)
POSITIVE = _Human("number", parse_number, positive=True)
LEVEL = _Human("level", parse_level)
RATE = _Human("rate", parse_rate)
LEVERAGE = _Human("leverage", parse_leverage)
PERCENT = _Human("percent", parse_percent)
# the report takes a level or its default, not "none" (build_report has no "no such level" yet)
LEVEL_NO_NONE = _Human("level", parse_level, allow_none=False)


class _SafeLevel(_Human):
    """The safe level: as a level, and empty (as an empty Excel cell) is no safe zone. Only the
    safe level: an empty margin-call or loss-cut level (an unset shell variable) stays an error."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            return math.nan
        return super().convert(value, param, ctx)


SAFE_LEVEL = _SafeLevel("level", parse_level)


class _CoreOption(click.Option):
    """An option that feeds a core argument. Its help is the argument's help from
    :mod:`xlcalc.arguments` (the one table the Excel function wizard and the template read too),
    then ``more``: what only the command line says (examples, the command's own default)."""

    def __init__(self, *decls, argument, function=None, more=None, **options):
        self.argument, self.function = argument, function
        text = help_text(argument, "en", function=function)
        options["help"] = f"{text} {more}" if more else text
        super().__init__(*decls, **options)


def core_option(*decls, argument, function=None, more=None, **options):
    """``click.option`` for the core argument ``argument`` (of ``function``, for its own wording)."""
    return click.option(*decls, cls=_CoreOption, argument=argument, function=function, more=more, **options)


# Options several commands share, each written once.
SIDE_OPTION = core_option("--side", argument="side", required=True)
BASIS_OPTION = core_option("--basis", argument="basis", type=click.Choice(["entry", "mark"]))
FEES_OPTION = core_option("--fees", argument="fees", type=AMOUNT, default="0", show_default=True)
EXCHANGE_OPTION = core_option(
    "--exchange", "exchange_id", argument="exchange_id", more="Sets levels and basis."
)
MARGIN_CALL_OPTION = core_option(
    "--margin-call",
    "margin_call_level",
    argument="margin_call_level",
    type=LEVEL,
    more="Type 100%, 1.0 or none (a bare 100 is refused: write 100%).",
)
LOSS_CUT_OPTION = core_option(
    "--loss-cut", "loss_cut_level", argument="loss_cut_level", type=LEVEL, more="Type 50%, 0.5 or none."
)
SAFE_LEVEL_OPTION = core_option(
    "--safe-level",
    argument="safe_level",
    type=SAFE_LEVEL,
    default=f"{DEFAULT_SAFE_LEVEL:.0%}",
    show_default=True,
)
TICK_OPTION = core_option(
    "--tick", argument="tick_size", type=POSITIVE, more="It also sets the decimals shown."
)
QUOTE_RATE_OPTION = core_option(
    "--quote-rate", argument="quote_rate", type=POSITIVE, default="1", show_default=True
)
PRESETS_OPTION = core_option("--presets", "presets_path", argument="path", type=click.Path())


def _remember_lang(ctx, _param, value):
    # ctx.meta is shared by every context of the run; eager, so it is known before any
    # other option is parsed and their errors speak it
    ctx.meta[_LANG_KEY] = default_language(value)
    return ctx.meta[_LANG_KEY]


def lang_option(func):
    return core_option(
        "--lang",
        argument="lang",
        type=click.Choice(LANGUAGES),
        is_eager=True,
        callback=_remember_lang,
        more="Default: the locale (LC_ALL, LC_MESSAGES, LANG starting with ja), else English.",
    )(func)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xlcalc")
def main():
    """Margin-risk calculator: maintenance ratio, margin-call and loss-cut prices.

    Numbers are read as people type them: 100%, 50 %, 20x, 2倍, 95,000, full-width digits.
    """


def _display_width(text: str) -> int:
    # East Asian wide characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def _display(ctx, reference, tick=None, currency=None, preset=None) -> Display:
    typed = ctx.meta.get(_DECIMALS_KEY, [])
    return Display(price_decimals(reference, typed, tick), currency or account_currency(preset))


def _is_nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def position_figures(position, levels, what_if, venue, *, safe_level=math.nan, loss_cut_price=None):
    """Every figure of one position, as (key, value, kind) rows; kind picks the format.

    ``position`` holds side, entry, qty, leverage, deposit, price, basis and fees as
    ``xlcalc calc`` read them; ``levels`` the margin-call, loss-cut and restore levels
    (:func:`xlcalc.presets.resolve_levels`); ``what_if`` the optional gap_price, stop_price and
    risk (None: not asked); ``venue`` the venue's conventions (SPEC §8): quote_rate, tick_size,
    margin_rounding and money_unit.
    A trigger of a level the venue does not have (NaN level) is None, shown as "none";
    with no level to restore, the deposit and quantity to restore are not applicable.
    Money is in the account currency (``quote_rate`` per quote unit), prices in the quote
    currency, rounded to ``tick_size`` the safe way. ``loss_cut_price`` replaces the solved
    loss-cut price (a tiered liquidation price).
    """
    from . import core

    side, entry, qty, leverage = (position[k] for k in ("side", "entry", "qty", "leverage"))
    deposit, price, basis, fees = (position[k] for k in ("deposit", "price", "basis", "fees"))
    margin_call_level, loss_cut_level = levels["margin_call_level"], levels["loss_cut_level"]
    gap_price, stop_price, risk = (what_if[k] for k in ("gap_price", "stop_price", "risk"))
    quote_rate, tick_size = venue["quote_rate"], venue["tick_size"]
    args = {
        "deposit": deposit,
        "side": side,
        "entry_price": entry,
        "quantity": qty,
        "leverage": leverage,
        "basis": basis,
        "fees": fees,
        "quote_rate": quote_rate,
    }
    ratio = core.maintenance_ratio(price=price, **args)

    def trigger(level):
        return None if _is_nan(level) else core.trigger_price(level=level, tick_size=tick_size, **args)

    restore_level = levels["restore_level"]
    restore = not _is_nan(restore_level)
    margin_price = price if core.parse_basis(basis) else entry
    safe = None if _is_nan(safe_level) else safe_level
    rows = [
        ("notional", price * qty * quote_rate, "money"),
        (
            "required_margin",
            core.required_margin(
                margin_price,
                qty,
                leverage,
                quote_rate=quote_rate,
                margin_rounding=venue["margin_rounding"],
                money_unit=venue["money_unit"],
            ),
            "money",
        ),
        ("pnl", core.unrealized_pnl(side, entry, price, qty, quote_rate=quote_rate), "money"),
        ("equity", core.equity(deposit, side, entry, price, qty, fees=fees, quote_rate=quote_rate), "money"),
        ("ratio", ratio, "pct"),
        ("status", core.status(ratio, margin_call_level, loss_cut_level, safe_level=safe), "status"),
    ]
    if safe is not None:
        rows.append(("safe_price", trigger(safe), "trigger"))
    rows += [
        ("margin_call_price", trigger(margin_call_level), "trigger"),
        ("loss_cut_price", trigger(loss_cut_level) if loss_cut_price is None else loss_cut_price, "trigger"),
        (
            "bankruptcy_price",
            core.bankruptcy_price(
                deposit, side, entry, qty, fees=fees, quote_rate=quote_rate, tick_size=tick_size
            ),
            "trigger",
        ),
        (
            "additional_deposit",
            core.additional_deposit(price=price, target=restore_level, **args) if restore else None,
            "money",
        ),
        (
            "close_quantity",
            core.close_quantity(price=price, target=restore_level, **args) if restore else None,
            "qty",
        ),
    ]
    if gap_price is not None:
        gap_loss = core.shortfall(deposit, side, entry, gap_price, qty, fees=fees, quote_rate=quote_rate)
        rows.append(("shortfall", gap_loss, "money"))
    if stop_price is not None:
        stop_loss_amount = core.stop_loss_amount(side, entry, stop_price, qty, quote_rate=quote_rate)
        rows.append(("stop_loss_amount", stop_loss_amount, "money"))
        if risk is not None:
            # the risk budget is in the account currency; the size formula works in the quote's
            size = core.position_size(deposit / quote_rate, risk, entry, stop_price, leverage)
            rows.append(("position_size", size, "qty"))
    return rows


def _render(rows, price, lang, display: Display, side_sign=None):
    """Rows as aligned `name  value` lines; a trigger price with its distance from ``price``."""
    names = [label(k, lang) if isinstance(k, str) else k[1] for k, _, _ in rows]
    width = max(_display_width(n) for n in names) + 2
    lines = []
    for name, (key, value, kind) in zip(names, rows):
        if value is None:
            text = label("none" if kind == "trigger" else "not_applicable", lang)
        elif kind == "money":
            text = display.money(value)
        elif kind == "pct":
            text = display.pct(value)
        elif kind == "rate":
            text = display.rate(value)
        elif kind == "qty":
            text = display.qty(value)
        elif kind == "status":
            text = label(value, lang)
        elif kind == "days":
            text = f"{value:,.1f}" if math.isfinite(value) else label("not_reachable", lang)
        elif kind == "coin":
            text = f"{value:,.8f}".rstrip("0").rstrip(".") if math.isfinite(value) else "-"
        elif math.isnan(value):
            text = f"- ({label('not_reachable', lang)})" if kind == "trigger" else "-"
        else:  # a trigger price, with its distance from the current price
            text = (
                f"{display.price(value)}  "
                f"({label('distance', lang)} {display.price(value - price, sign=True)}, "
                f"{display.pct(value / price - 1, sign=True)})"
            )
            if kind == "trigger" and side_sign is not None and (value - price) * side_sign > 0:
                # the safe level is one to climb back to, not a line that was crossed
                text += f"  {label('below_safe' if key == 'safe_price' else 'breached', lang)}"
        lines.append(_pad(name, width) + text)
    return "\n".join(lines)


def _level_text(level, display, lang):
    return label("none", lang) if _is_nan(level) else display.rate(level)


def _ladder_lines(position, *, levels, safe_level, triggers, lang, display, quote_rate=1.0):
    """The adaptive scenario ladder: price, move, ratio, status, and which row is which.
    ``position`` is that of :func:`position_figures`."""
    from . import core
    from .ladder import scenario_ladder

    price, side, entry = position["price"], position["side"], position["entry"]
    prices = scenario_ladder(price, [v for v in triggers.values() if v is not None])[::-1]
    ratios = core.maintenance_ratio(
        position["deposit"],
        side,
        entry,
        prices,
        position["qty"],
        position["leverage"],
        basis=position["basis"],
        fees=position["fees"],
        quote_rate=quote_rate,
    )
    statuses = _status(ratios, levels, safe_level)
    head = [label("price", lang), label("move", lang), label("ratio", lang), label("status", lang)]
    cells = []
    for p, r, s in zip(prices, ratios, statuses):
        marks = [label(k, lang) for k, v in triggers.items() if v is not None and v == p]
        if p == price:
            marks.insert(0, label("current_price", lang))
        cells.append(
            [
                display.price(p),
                display.pct(p / price - 1, sign=True),
                display.pct(r),
                label(str(s), lang),
                " / ".join(marks),
            ]
        )
    widths = [max(_display_width(row[i]) for row in cells + [head]) for i in range(4)]
    out = ["", label("ladder_title", lang)]
    out.append(
        "  ".join(
            _pad(h, w) if i == 3 else " " * (w - _display_width(h)) + h
            for i, (h, w) in enumerate(zip(head, widths))
        ).rstrip()
    )
    for row in cells:
        numbers = ["  ".join(" " * (w - _display_width(c)) + c for c, w in zip(row[:3], widths[:3]))]
        out.append(
            ("  ".join(numbers + [_pad(row[3], widths[3]), ("← " + row[4]) if row[4] else ""])).rstrip()
        )
    return out


def _status(ratio, levels, safe_level):
    from . import core

    safe = None if _is_nan(safe_level) else safe_level
    return core.status(ratio, levels["margin_call_level"], levels["loss_cut_level"], safe_level=safe)


@main.command()
@SIDE_OPTION
@core_option(
    "--entry", argument="entry_price", type=PRICE, required=True, more="e.g. 1.08523, 95,000, ¥10,000,000."
)
@core_option("--qty", argument="quantity", type=POSITIVE, required=True)
@core_option(
    "--leverage", argument="leverage", type=LEVERAGE, more="25, 20x, 2倍; default: the preset's maximum."
)
@core_option("--deposit", argument="deposit", type=NUMBER, required=True)
@core_option("--price", argument="price", type=PRICE, more="Default: the entry price.")
@BASIS_OPTION
@FEES_OPTION
@EXCHANGE_OPTION
@MARGIN_CALL_OPTION
@LOSS_CUT_OPTION
@SAFE_LEVEL_OPTION
@core_option("--days", argument="days", type=AMOUNT, more="Shows the loss-cut price after them (daily fee).")
@core_option("--daily-fee", argument="daily_rate", type=RATE, more="e.g. 0.04%; default: the preset's.")
@core_option("--gap-price", argument="fill_price", type=PRICE, more="For the shortfall.")
@core_option("--stop", "stop_price", argument="stop_price", type=PRICE)
@core_option("--risk", argument="risk", type=RATE, more="The capital is the deposit; 2% or 0.02.")
@TICK_OPTION
@click.option("--currency", help="Account currency for money: JPY (¥, no decimals), USD, USDT, EUR, BTC...")
@QUOTE_RATE_OPTION
@core_option("--symbol", argument="symbol", more="A contract in the preset's tier file.")
@click.option("--ladder", is_flag=True, help="Also print the scenario ladder (ratio and status by price).")
@PRESETS_OPTION
@lang_option
@click.pass_context
def calc(
    ctx,
    side,
    entry,
    qty,
    leverage,
    deposit,
    price,
    basis,
    fees,
    exchange_id,
    margin_call_level,
    loss_cut_level,
    safe_level,
    days,
    daily_fee,
    gap_price,
    stop_price,
    risk,
    tick,
    currency,
    quote_rate,
    symbol,
    ladder,
    presets_path,
    lang,
):
    """Print every figure of one position.

    Example: xlcalc calc --side long --entry 50000 --qty 0.2 --leverage 2x --deposit 5000 --price 25000
    """
    from . import core

    preset, leverage, levels = _venue(
        exchange_id, presets_path, leverage, margin_call_level, loss_cut_level, basis, lang
    )
    basis = levels["basis"]
    price = entry if price is None else price
    display = _display(ctx, entry, tick, currency, preset)
    position = {
        "side": side,
        "entry": entry,
        "qty": qty,
        "leverage": leverage,
        "deposit": deposit,
        "price": price,
        "basis": basis,
        "fees": fees,
    }
    liquidation, beyond = None, False
    if preset and preset.get("margin_model") == "mmr" and loss_cut_level is None:
        liquidation, beyond = _tiered_loss_cut(
            position, levels, preset, symbol, presets_path, quote_rate, tick
        )
    venue = {
        "quote_rate": quote_rate,
        "tick_size": tick,
        # the venue's own rounding of the required margin (SPEC §8), where its preset says so
        **money_rounding(preset),
    }
    what_if = {"gap_price": gap_price, "stop_price": stop_price, "risk": risk}
    rows = position_figures(
        position, levels, what_if, venue, safe_level=safe_level, loss_cut_price=liquidation
    )
    side_sign = core.parse_side(side)
    if days is not None:
        rows += _fee_drift_rows(position, levels, days, daily_fee, preset, lang, quote_rate, tick)
    shown = [
        ("side", label("long" if side_sign > 0 else "short", lang)),
        ("basis", label("mark" if core.parse_basis(basis) else "entry", lang)),
        ("margin_call_level", _level_text(levels["margin_call_level"], display, lang)),
        ("loss_cut_level", _level_text(levels["loss_cut_level"], display, lang)),
        ("safe_level", _level_text(safe_level, display, lang)),
    ]
    if quote_rate != 1:
        shown.append(("quote_rate", f"{quote_rate:g}"))
    header = ["   ".join(f"{label(key, lang)}: {text}" for key, text in shown)]
    if preset:
        header.append(
            f"{label('exchange', lang)}: {preset['name']} {preset['product']} "
            f"({preset['source_url']}, {preset['as_of']})"
        )
    lines = header + ["", _render(rows, price, lang, display, side_sign)]
    if beyond:
        lines.append(_beyond_note(preset["id"], lang))
    if ladder:
        triggers = {
            k: v
            for k, v, kind in rows
            if kind == "trigger"
            and k in ("safe_price", "margin_call_price", "loss_cut_price", "bankruptcy_price")
        }
        lines += _ladder_lines(
            position,
            levels=levels,
            safe_level=safe_level,
            triggers=triggers,
            lang=lang,
            display=display,
            quote_rate=quote_rate,
        )
    click.echo("\n".join(lines))


def _venue(exchange_id, presets_path, leverage, margin_call_level, loss_cut_level, basis, lang):
    """The preset (None without --exchange), the leverage (default: the preset's maximum) and the
    levels and basis to use (typed options over the preset's), for ``calc`` and ``plan``."""
    preset = get_preset(exchange_id, presets_path) if exchange_id else None
    if leverage is None:
        if preset is None or math.isnan(preset["max_leverage"]):
            raise InputError(label("cli_leverage_required", lang))
        leverage = preset["max_leverage"]
    levels = resolve_levels(
        preset, margin_call=margin_call_level, loss_cut=loss_cut_level, leverage=leverage, basis=basis
    )
    return preset, leverage, levels


def _tiered_loss_cut(position, levels, preset, symbol, presets_path, quote_rate, tick):
    """For a maintenance-margin-rate preset: the liquidation price from the preset's tier table
    (the same tiers and solver as ``xlcalc liq``), and the loss-cut level set to the maintenance
    margin at the price over the required margin, so the status agrees with ``liq``."""
    from . import core, perpetual
    from . import tiers as tier_tables

    p = position
    table = tier_tables.for_preset(preset["id"], symbol, presets_path)
    mm_basis = preset.get("mm_basis") or "mark"
    wallet = (p["deposit"] - p["fees"]) / quote_rate
    maintenance = perpetual.maintenance_margin(
        p["price"], p["qty"], tiers=table, mm_basis=mm_basis, entry_price=p["entry"]
    )
    margin_price = p["price"] if core.parse_basis(p["basis"]) else p["entry"]
    levels["loss_cut_level"] = float(maintenance / (margin_price * p["qty"] / p["leverage"]))
    levels["restore_level"] = (
        levels["restore_level"] if not _is_nan(levels["margin_call_level"]) else (levels["loss_cut_level"])
    )
    lp = float(
        perpetual.liquidation_price(
            wallet, p["side"], p["entry"], p["qty"], None, tiers=table, mm_basis=mm_basis, tick_size=tick
        )
    )
    return lp, _beyond(table, p["qty"], p["price"], lp)


def _beyond(table, qty, price, liquidation) -> bool:
    """Whether the notional, now or at the liquidation price, is above the tier table."""
    from . import tiers as tier_tables

    return bool(tier_tables.position_beyond_table(qty, price, liquidation, table))


def _beyond_note(exchange_id, lang) -> str:
    return f"{label('report_notes', lang)}: " + label("report_note_beyond_tiers", lang).format(
        n=1, exchange=exchange_id
    )


def _fee_drift_rows(position, levels, days, daily_fee, preset, lang, quote_rate=1.0, tick=None):
    """The daily fee over ``days``, the loss-cut price once it has been charged, and the days
    until the fee alone brings the ratio at the current price to the loss-cut level."""
    from . import core
    from .planning import days_to_level

    rate = daily_fee
    if rate is None and preset is not None and not math.isnan(preset.get("daily_fee_rate", math.nan)):
        rate = preset["daily_fee_rate"]
    if rate is None:
        raise InputError(label("cli_daily_fee_needed", lang))
    p = position
    cost = core.holding_cost(p["entry"], p["qty"], rate, days) * quote_rate
    level = levels["loss_cut_level"]
    args = {
        "deposit": p["deposit"],
        "side": p["side"],
        "entry_price": p["entry"],
        "quantity": p["qty"],
        "leverage": p["leverage"],
        "basis": p["basis"],
        "quote_rate": quote_rate,
    }
    later = days_left = None
    if not _is_nan(level):
        later = core.trigger_price(level=level, fees=p["fees"] + cost, tick_size=tick, **args)
        days_left = days_to_level(
            price=p["price"],
            level=level,
            daily_rate=rate * quote_rate,
            fees=p["fees"],
            **{k: v for k, v in args.items() if k != "quote_rate"},
        )
    days_text = label("loss_cut_after_days", lang).format(days=f"{days:g}")
    return [
        ("daily_fee_used", rate, "rate"),
        ("holding_cost", cost, "money"),
        (("loss_cut_after_days", days_text), later, "trigger"),
        ("days_to_loss_cut", days_left, "days"),
    ]


@main.command()
@click.option(
    "--presets", "presets_path", type=click.Path(), help="Your own presets CSV (added to the built-in ones)."
)
@click.option("--csv", "as_csv", is_flag=True, help="Print the full table as CSV.")
@lang_option
def exchanges(presets_path, as_csv, lang):
    """List the exchange presets with their sources and dates."""
    table = preset_rows(presets_path)
    if as_csv:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in table.values():
            writer.writerow(
                [
                    ""
                    if isinstance(row[c], float) and math.isnan(row[c])
                    else f"{row[c]:g}"
                    if isinstance(row[c], float)
                    else row[c]
                    for c in COLUMNS
                ]
            )
        click.echo(buffer.getvalue(), nl=False)
        return
    display = Display()
    lines = []
    for row in table.values():
        levels = ", ".join(
            f"{label(name, lang)} {display.rate(row[col])}"
            for col, name in (
                ("margin_call_level", "margin_call_level"),
                ("loss_cut_level", "loss_cut_level"),
                ("mmr", "mmr"),
            )
            if not math.isnan(row[col])
        )
        # rate-model presets are valued on the mark (preset_levels); their own rule is mm_basis
        ratio_basis = "mark" if row.get("margin_model") == "mmr" else row["basis"] or "entry"
        basis = label("basis_word", lang).format(basis=label(ratio_basis, lang))
        most = label("exchanges_max", lang).format(leverage=f"{row['max_leverage']:g}")
        # the venue conventions that differ from the defaults (SPEC §8)
        rules = [label("exchanges_mm_entry", lang)] if row.get("mm_basis") == "entry" else []
        rules += [label("exchanges_hedge_max", lang)] if row.get("hedge") == "max" else []
        if row.get("margin_rounding") == "floor":
            unit = money_rounding(row)["money_unit"]
            rules.append(label("exchanges_floor", lang).format(unit=f"{unit:g}"))
        lines.append(
            f"{row['id']:<28} {row['name']} {row['product']}: {most}, "
            f"{levels or label('levels_not_published', lang)}, {basis}" + "".join(f", {r}" for r in rules)
        )
        lines.append(
            f"{'':<28} " + label("exchanges_source", lang).format(url=row["source_url"], date=row["as_of"])
        )
    click.echo("\n".join(lines))


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@lang_option
@core_option("--exchange", "exchange_id", argument="exchange_id", more="Preselected in the workbook.")
@click.option("--udf", is_flag=True, help="Write an .xlsm whose formulas call the XLC_* functions (xlwings).")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def template(path, lang, exchange_id, udf, force):
    """Write the calculator workbook (native Excel formulas) to PATH (.xlsx; .xlsm with --udf).

    Example: xlcalc template calc.xlsx --lang ja --exchange bitflyer_cfd
    """
    _load_openpyxl_without_numpy()
    from .template import build_template  # openpyxl only for this command

    click.echo(build_template(path, lang=lang, exchange=exchange_id, udf=udf, force=force))


def _load_openpyxl_without_numpy():
    """Load openpyxl with numpy hidden, when this process has loaded neither yet (#13).

    openpyxl imports numpy, when it is installed, only to accept numpy scalars as cell values;
    the template writes none (it needs no numpy at all), and numpy's import is a third of
    ``xlcalc template``. Only this command does this, in a process that has not needed numpy
    so far and that ends once the workbook is written: ``build_template`` called from Python
    leaves openpyxl as it is.
    """
    if "numpy" in sys.modules or "openpyxl" in sys.modules:
        return
    sys.modules["numpy"] = None  # `import numpy` raises ImportError: openpyxl sets NUMPY = False
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]


@main.command()
@SIDE_OPTION
@core_option("--entry", argument="entry_price", type=PRICE, required=True)
@core_option("--qty", argument="quantity", type=POSITIVE, more="Linear contracts.")
@core_option(
    "--wallet",
    argument="wallet_balance",
    type=NUMBER,
    more="Coin with --inverse. Default with --leverage: the isolated margin, notional ÷ leverage.",
)
@core_option("--price", argument="price", type=PRICE, more="Values the maintenance margin; default: entry.")
@core_option(
    "--exchange", "exchange_id", argument="exchange_id", more="binance_usdm, bybit_usdt use their tier table."
)
@core_option("--symbol", argument="symbol", more="A contract in the exchange's tier file (default BTCUSDT).")
@core_option("--mmr", argument="mmr", type=RATE, more="0.4% or 0.004; overrides the preset's tiers.")
@core_option(
    "--cum", argument="maintenance_amount", type=AMOUNT, default="0", show_default=True, more="With --mmr."
)
@core_option("--taker-fee", argument="taker_fee", type=RATE, default="0", show_default=True)
@core_option("--other-maintenance", argument="other_maintenance", type=AMOUNT, default="0", show_default=True)
@core_option("--other-pnl", argument="other_pnl", type=NUMBER, default="0", show_default=True)
@click.option(
    "--inverse",
    "is_inverse",
    is_flag=True,
    help="Coin-margined contract (needs --contracts, --contract-value, --mmr).",
)
@core_option("--contracts", argument="contracts", type=POSITIVE)
@core_option("--contract-value", argument="contract_value", type=POSITIVE)
@core_option(
    "--leverage",
    argument="leverage",
    type=LEVERAGE,
    more="20x. The wallet when --wallet is not given; initial margin and ROE.",
)
@click.option("--exit-price", type=PRICE, help="Price for the P&L and ROE (default: --price).")
@core_option("--target-roe", argument="roe", type=PERCENT, more="Prints the price that gives it.")
@core_option("--target-pnl", argument="pnl", function="target_price", type=NUMBER, more="Prints the price.")
@core_option(
    "--balance", argument="balance", type=AMOUNT, more="Prints the largest quantity to open at --leverage."
)
@core_option(
    "--mm-basis",
    argument="mm_basis",
    type=click.Choice(["mark", "entry"]),
    more="Default: the preset's, else mark.",
)
@TICK_OPTION
@QUOTE_RATE_OPTION
@click.option("--currency", help="Margin currency for money (default USDT; the coin with --inverse).")
@lang_option
@click.pass_context
def liq(
    ctx,
    side,
    entry,
    qty,
    wallet,
    price,
    exchange_id,
    symbol,
    mmr,
    cum,
    taker_fee,
    other_maintenance,
    other_pnl,
    is_inverse,
    contracts,
    contract_value,
    leverage,
    exit_price,
    target_roe,
    target_pnl,
    balance,
    mm_basis,
    tick,
    quote_rate,
    currency,
    lang,
):
    """Liquidation price of a perpetual (maintenance-margin-rate model, tiers, cross, inverse), with
    the rest of a futures calculator: initial margin, P&L and ROE, target prices, largest quantity.

    Example: xlcalc liq --side long --entry 60000 --qty 1 --leverage 20x --exchange binance_usdm
    """
    from . import core, inverse, perpetual
    from . import tiers as tier_tables

    price = entry if price is None else price
    preset = get_preset(exchange_id) if exchange_id else {}
    mm_basis = mm_basis or preset.get("mm_basis") or "mark"
    side_sign = core.parse_side(side)
    header = []
    # the venue's maintenance terms: every figure below reads these same ones
    terms = {"mmr": mmr, "maintenance_amount": cum, "taker_fee": taker_fee, "mm_basis": mm_basis}
    if wallet is None and (is_inverse or leverage is None or qty is None):
        raise InputError(label("cli_wallet_needed", lang))
    if is_inverse:
        if contracts is None or contract_value is None or mmr is None:
            raise InputError(label("cli_inverse_needs", lang))
        display = _display(ctx, entry, tick, currency)
        args = {"side": side, "entry_price": entry, "contracts": contracts, "contract_value": contract_value}
        lp = inverse.liquidation_price(
            wallet, other_maintenance=other_maintenance, other_pnl=other_pnl, tick_size=tick, **terms, **args
        )
        bp = inverse.bankruptcy_price(
            wallet, other_pnl=other_pnl, taker_fee=taker_fee, tick_size=tick, **args
        )
        rows = [
            ("liquidation_price", lp, "trigger"),
            ("bankruptcy_price", bp, "trigger"),
            ("margin_balance", inverse.equity(wallet, price=price, **args) + other_pnl, "coin"),
            (
                "maintenance_margin",
                inverse.maintenance_margin(price, contracts, contract_value, entry_price=entry, **terms),
                "coin",
            ),
            ("mmr_used", mmr, "rate"),
        ]
        header.append(
            f"{label('inverse_contract', lang)}: {label('contracts', lang)} {contracts:g} x "
            f"{contract_value:g}"
        )
        wallet_text = f"{wallet:,.8g}"
    else:
        if qty is None:
            raise InputError(label("cli_qty_required", lang))
        table = None
        if mmr is None:
            if not exchange_id:
                raise InputError(label("cli_give_mmr", lang))
            table = tier_tables.for_preset(exchange_id, symbol)  # the same tiers as calc --exchange
            header.append(
                f"{label('tier_table', lang)}: {table.attrs['exchange']} {table.attrs['symbol']} "
                f"({table.attrs['source_url']}, {table.attrs['as_of']})"
            )
        if wallet is None:  # isolated margin from the notional, in the account currency
            wallet = entry * qty / leverage * quote_rate
        # the perpetual maths is in the quote currency: money in the account currency is divided
        # by the quote rate on the way in and multiplied on the way out (SPEC §8)
        rate = quote_rate
        display = _display(ctx, entry, tick, currency or ("USDT" if rate == 1 else None))
        args = {"side": side, "entry_price": entry, "quantity": qty}
        wallet_q, other_pnl_q = wallet / rate, other_pnl / rate
        terms["tiers"] = table
        lp = perpetual.liquidation_price(
            wallet_q,
            other_maintenance=other_maintenance / rate,
            other_pnl=other_pnl_q,
            tick_size=tick,
            **terms,
            **args,
        )
        bp = perpetual.bankruptcy_price(
            wallet_q, other_pnl=other_pnl_q, taker_fee=taker_fee, tick_size=tick, **args
        )
        maintenance = perpetual.maintenance_margin(price, qty, entry_price=entry, **terms)
        if table is not None:
            valued_at = entry if mm_basis == "entry" else (lp if math.isfinite(lp) else price)
            used_rate = float(perpetual.tier_for(valued_at * qty, table)["mmr"])
        else:
            used_rate = mmr
        balance_q = wallet_q + other_pnl_q + core.unrealized_pnl(side, entry, price, qty)
        rows = [
            ("liquidation_price", lp, "trigger"),
            ("bankruptcy_price", bp, "trigger"),
            ("notional", price * qty * rate, "money"),
            ("margin_balance", balance_q * rate, "money"),
            ("maintenance_margin", maintenance * rate, "money"),
            ("mmr_used", used_rate, "rate"),
        ]
        position = {"side": side, "entry": entry, "qty": qty, "price": price, "leverage": leverage}
        position["wallet"] = wallet_q + other_pnl_q
        rows += [
            (key, value * rate if kind == "money" else value, kind)
            for key, value, kind in futures_figures(
                position,
                terms,
                exit_price=exit_price,
                target_roe=target_roe,
                target_pnl=None if target_pnl is None else target_pnl / rate,
                balance=None if balance is None else balance / rate,
                tick_size=tick,
            )
        ]
        wallet_text = display.money(wallet)
        beyond = table is not None and _beyond(table, qty, price, lp)
    shown = [
        ("side", label("long" if side_sign > 0 else "short", lang)),
        ("wallet_balance", wallet_text),
        ("taker_fee", display.rate(taker_fee)),
        ("mm_basis", label(mm_basis, lang)),
    ]
    if quote_rate != 1:
        shown.append(("quote_rate", f"{quote_rate:g}"))
    header.insert(0, "   ".join(f"{label(k, lang)}: {v}" for k, v in shown))
    lines = header + ["", _render(rows, price, lang, display, side_sign)]
    if not is_inverse:
        lines.append(label("margin_ratio_note", lang))
        if beyond:
            lines.append(_beyond_note(exchange_id, lang))
    click.echo("\n".join(lines))


def futures_figures(
    position,
    maintenance_terms,
    *,
    exit_price=None,
    target_roe=None,
    target_pnl=None,
    balance=None,
    tick_size=None,
):
    """The rest of a futures calculator (Binance's), from :mod:`xlcalc.perpetual`: both margin
    ratios, initial margin, P&L and ROE at the exit price, target prices, the largest quantity to
    open; as (key, value, kind) rows, money in the quote currency.

    ``position`` holds side, entry, qty, price (the mark), wallet and leverage (None: no
    initial margin, ROE or largest quantity); ``maintenance_terms`` the ``mmr``/``tiers``,
    ``maintenance_amount``, ``taker_fee`` and ``mm_basis`` of
    :func:`xlcalc.perpetual.margin_ratio`, whose fee and tiers also bound the largest quantity.

    Binance's "margin ratio" is maintenance margin ÷ margin balance (100 % = liquidation, higher
    is worse); xlcalc's maintenance ratio is its inverse (100 % = liquidation, lower is worse).
    Both are shown, each named.

    Examples
    --------
    Long 1 BTC at 60,000 at 20x (initial margin 3,000, MMR 0.4 %): at 63,000 the P&L is 3,000,
    an ROE of 100 %; 50 % ROE comes at 61,500; 1,000 USDT opens 0.3333 BTC; the maintenance
    margin of 240 is 8 % of the balance (Binance) or the balance 1,250 % of it (xlcalc):

    >>> position = dict(side="long", entry=60_000, qty=1, price=60_000, wallet=3_000, leverage=20)
    >>> rows = {k: v for k, v, _ in futures_figures(
    ...     position, {"mmr": 0.004}, exit_price=63_000, target_roe=0.5, balance=1_000)}
    >>> rows["initial_margin"], rows["pnl_at_exit"], rows["roe"], rows["target_roe_price"]
    (3000.0, 3000.0, 1.0, 61500.0)
    >>> round(rows["max_open_quantity"], 4), rows["binance_margin_ratio"], rows["xlcalc_maintenance_ratio"]
    (0.3333, 0.08, 12.5)
    """
    from . import perpetual

    side, entry, qty, price = (position[k] for k in ("side", "entry", "qty", "price"))
    wallet, leverage = position["wallet"], position.get("leverage")
    binance = perpetual.margin_ratio(wallet, side, entry, price, qty, **maintenance_terms)
    rows = [
        ("xlcalc_maintenance_ratio", 1 / binance if binance > 0 else math.nan, "pct"),
        ("binance_margin_ratio", binance, "pct"),
    ]
    exit_at = price if exit_price is None else exit_price
    rows += [
        ("exit_price", exit_at, "price"),
        ("pnl_at_exit", perpetual.pnl(side, entry, exit_at, qty), "money"),
    ]
    if leverage is not None:
        rows += [
            ("initial_margin", perpetual.initial_margin(entry, qty, leverage), "money"),
            ("roe", perpetual.roe(side, entry, exit_at, leverage), "pct"),
        ]
        if target_roe is not None:
            at_roe = perpetual.target_price(
                side, entry, leverage=leverage, roe=target_roe, tick_size=tick_size
            )
            rows.append(("target_roe_price", at_roe, "price"))
        if balance is not None:
            fee, tiers = maintenance_terms.get("taker_fee", 0.0), maintenance_terms.get("tiers")
            most = perpetual.max_open_quantity(balance, entry, leverage, fee, tiers=tiers)
            rows.append(("max_open_quantity", most, "qty"))
    if target_pnl is not None:
        at_pnl = perpetual.target_price(side, entry, pnl=target_pnl, quantity=qty, tick_size=tick_size)
        rows.append(("target_pnl_price", at_pnl, "price"))
    return [(k, float(v), kind) for k, v, kind in rows]


# Effective leverages a plan shows by default (those up to the venue's leverage).
_PLAN_STEPS = (0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 15, 20, 25, 50, 75, 100, 125)


def _leverage_list(text, option, lang):
    """``1,2,3x`` or ``1 2 3`` as a list of leverages (a comma separates items here)."""
    items = [t for t in text.replace("、", ",").replace(" ", ",").split(",") if t.strip()]
    if not items:
        raise InputError(label("human_not_number", lang).format(option=option, value=text))
    return [parse_leverage(t, option, lang) for t in items]


def _table(head, rows, lang):
    """Right-aligned columns (display widths), a header line and one line per row."""
    widths = [max(_display_width(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    return [
        "  ".join(" " * (w - _display_width(str(c))) + str(c) for c, w in zip(row, widths)).rstrip()
        for row in [head, *rows]
    ]


@main.command()
@core_option("--deposit", argument="deposit", type=AMOUNT, required=True, more="1,000,000 or ¥1,000,000.")
@core_option("--entry", argument="entry_price", type=PRICE, required=True)
@core_option(
    "--leverage", argument="leverage", type=LEVERAGE, more="2, 2x, 2倍; default: the preset's maximum."
)
@core_option("--side", argument="side", default="long", show_default=True)
@core_option(
    "--effective",
    argument="effective_leverage",
    more="A list to compare: '0.5,1,1.5,2'; "
    "default: round steps up to --leverage and the largest that keeps --safe-level.",
)
@EXCHANGE_OPTION
@MARGIN_CALL_OPTION
@LOSS_CUT_OPTION
@SAFE_LEVEL_OPTION
@BASIS_OPTION
@FEES_OPTION
@TICK_OPTION
@click.option("--currency", help="Account currency for money: JPY, USD, USDT...")
@PRESETS_OPTION
@lang_option
@click.pass_context
def plan(
    ctx,
    deposit,
    entry,
    leverage,
    side,
    effective,
    exchange_id,
    margin_call_level,
    loss_cut_level,
    safe_level,
    basis,
    fees,
    tick,
    currency,
    presets_path,
    lang,
):
    """Leverage planner: how large a position keeps you above the safe level, and how far the
    price may move before the margin call, the loss-cut and zero, for each effective leverage.

    Example: xlcalc plan --deposit ¥1,000,000 --entry 10,000,000 --leverage 2x
    """
    from . import core
    from .planning import leverage_plan, max_quantity  # pandas: this command only

    preset, leverage, levels = _venue(
        exchange_id, presets_path, leverage, margin_call_level, loss_cut_level, basis, lang
    )
    display = _display(ctx, entry, tick, currency, preset)
    safe = None if _is_nan(safe_level) else safe_level
    largest = max_quantity(deposit, entry, leverage, level=safe) if safe else math.nan
    if effective:
        steps = _leverage_list(effective, "--effective", lang)
    else:
        steps = [e for e in _PLAN_STEPS if e <= leverage * (1 + 1e-12)]
        if leverage not in steps:
            steps.append(leverage)
        if safe and deposit > 0 and largest > 0:
            steps.append(largest * entry / deposit)  # the largest position above the safe level
    steps = sorted(set(steps))
    table = leverage_plan(
        deposit,
        side,
        entry,
        leverage,
        steps,
        margin_call_level=levels["margin_call_level"],
        loss_cut_level=levels["loss_cut_level"],
        safe_level=safe,
        basis=levels["basis"],
        fees=fees,
    )

    def at(price, move):
        return "-" if _is_nan(price) else f"{display.price(price)} ({display.pct(move, sign=True)})"

    head = [
        label("plan_effective", lang),
        label("quantity", lang),
        label("notional", lang),
        label("ratio", lang),
        label("safe_price", lang),
        label("margin_call_price", lang),
        label("loss_cut_price", lang),
        label("bankruptcy_price", lang),
    ]
    rows = []
    for e, row in table.iterrows():
        rows.append(
            [
                f"{e:.4g}x",
                display.qty(row["quantity"]),
                display.money(row["quantity"] * entry),
                display.pct(row["ratio"]),
                at(row["safe_price"], row["safe_move"]) if safe else label("none", lang),
                at(row["margin_call_price"], row["margin_call_move"])
                if not _is_nan(levels["margin_call_level"])
                else label("none", lang),
                at(row["loss_cut_price"], row["loss_cut_move"])
                if not _is_nan(levels["loss_cut_level"])
                else label("none", lang),
                at(row["bankruptcy_price"], row["bankruptcy_move"]),
            ]
        )
    shown = [
        ("deposit", display.money(deposit)),
        ("entry_price", display.price(entry)),
        ("side", label("long" if core.parse_side(side) > 0 else "short", lang)),
        ("leverage", f"{leverage:g}x"),
        ("margin_call_level", _level_text(levels["margin_call_level"], display, lang)),
        ("loss_cut_level", _level_text(levels["loss_cut_level"], display, lang)),
        ("safe_level", _level_text(safe_level, display, lang)),
    ]
    lines = ["   ".join(f"{label(k, lang)}: {v}" for k, v in shown)]
    if safe:
        lines.append(
            label("plan_answer", lang).format(
                quantity=display.qty(largest),
                notional=display.money(largest * entry),
                effective=f"{largest * entry / deposit:.4g}x" if deposit > 0 else "-",
                level=display.rate(safe),
            )
        )
    lines += ["", *_table(head, rows, lang), label("plan_command_note", lang)]
    click.echo("\n".join(lines))


@main.command()
@core_option("--loan", argument="loan", type=AMOUNT, required=True, more="e.g. 10,000.")
@core_option("--collateral", argument="collateral_quantity", type=POSITIVE, required=True)
@core_option("--price", argument="price", function="loan_ltv", type=PRICE, required=True)
@core_option("--venue", "venue_id", argument="preset_id")
@core_option(
    "--margin-call-ltv", argument="level", function="ltv_price", type=LEVEL, more="Margin call: 80%."
)
@core_option(
    "--liquidation-ltv", argument="level", function="ltv_price", type=LEVEL, more="Liquidation: 90%."
)
@core_option(
    "--target-ltv",
    argument="target",
    function="collateral_to_add",
    type=LEVEL,
    more="Default: the venue's initial LTV.",
)
@core_option("--interest", argument="interest", type=AMOUNT)
@core_option("--annual-rate", argument="annual_rate", type=RATE, more="e.g. 8%; default: the venue's.")
@core_option("--days", argument="days", type=AMOUNT, more="Interest at --annual-rate is added for them.")
@core_option("--gap-price", argument="fill_price", function="loan_shortfall", type=PRICE)
@core_option(
    "--liquidation-fee", argument="liquidation_fee", type=RATE, more="e.g. 2%; default: the venue's."
)
@TICK_OPTION
@click.option("--currency", help="Loan currency for money: USDT, JPY...")
@lang_option
@click.pass_context
def loan(
    ctx,
    loan,
    collateral,
    price,
    venue_id,
    margin_call_ltv,
    liquidation_ltv,
    target_ltv,
    interest,
    annual_rate,
    days,
    gap_price,
    liquidation_fee,
    tick,
    currency,
    lang,
):
    """Crypto-backed loan: LTV now, the margin-call and liquidation prices with their distance,
    collateral to add or repayment to get back to a target, shortfall at a gap, interest.

    Example: xlcalc loan --loan 10,000 --collateral 1 --price 20,000 --margin-call-ltv 80% --gap-price 9,000
    """
    from . import loans

    venue = loans.get_loan_preset(venue_id) if venue_id else {}

    def pick(given, key):
        if given is not None:
            return given
        value = venue.get(key, math.nan)
        return math.nan if value is None or value == "" else float(value)

    mc, lq = pick(margin_call_ltv, "margin_call_ltv"), pick(liquidation_ltv, "liquidation_ltv")
    target, rate = pick(target_ltv, "initial_ltv"), pick(annual_rate, "annual_interest_rate")
    fee = pick(liquidation_fee, "liquidation_fee")
    owed = interest or 0.0
    rows = []
    if days is not None:
        if _is_nan(rate):
            raise InputError(label("cli_annual_rate_needed", lang))
        accrued = loans.loan_interest(loan, rate, days)
        rows.append(
            (("interest_days", label("interest_days", lang).format(days=f"{days:g}")), accrued, "money")
        )
        owed += accrued
    display = _display(ctx, price, tick, currency or venue.get("loan_currency", "").split(" ")[0] or None)
    args = {"loan": loan, "collateral_quantity": collateral, "interest": owed}
    ltv = loans.loan_ltv(price=price, **args)
    rows += [
        ("collateral_value", collateral * price, "money"),
        ("debt", loan + owed, "money"),
        ("ltv", ltv, "pct"),
    ]
    for key, level in (("loan_margin_call_price", mc), ("loan_liquidation_price", lq)):
        rows.append((key, None if _is_nan(level) else loans.ltv_price(level=level, **args), "trigger"))
    if not _is_nan(target):
        rows += [
            (
                ("collateral_to_add", label("collateral_to_add", lang).format(target=display.rate(target))),
                loans.collateral_to_add(price=price, target=target, **args),
                "qty",
            ),
            (
                ("repay_to_target", label("repay_to_target", lang).format(target=display.rate(target))),
                loans.repay_to_target(price=price, target=target, **args),
                "money",
            ),
        ]
    if gap_price is not None:
        fee = 0.0 if _is_nan(fee) else fee
        gap_loss = loans.loan_shortfall(fill_price=gap_price, liquidation_fee=fee, **args)
        rows.append(("shortfall", gap_loss, "money"))
    shown = [
        ("margin_call_ltv", _level_text(mc, display, lang)),
        ("liquidation_ltv", _level_text(lq, display, lang)),
        ("target_ltv", _level_text(target, display, lang)),
    ]
    header = ["   ".join(f"{label(k, lang)}: {v}" for k, v in shown)]
    if venue:
        header.append(
            f"{label('exchange', lang)}: {venue['name']} {venue['product']} "
            f"({venue['source_url']}, {venue['as_of']})"
        )
    # the collateral falling is the danger, as for a long position
    click.echo("\n".join([*header, "", _render(rows, price, lang, display, side_sign=1)]))


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="The report .xlsx to write."
)
@core_option(
    "--deposit",
    argument="deposit",
    type=NUMBER,
    more="Each cross-margin account's, when the input has no deposit column.",
)
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(dir_okay=False),
    help="CSV of symbol,price: mark prices by symbol.",
)
@EXCHANGE_OPTION
@BASIS_OPTION
@MARGIN_CALL_OPTION
@LOSS_CUT_OPTION
@SAFE_LEVEL_OPTION
@TICK_OPTION
@core_option("--quote-rate", argument="quote_rate", type=POSITIVE, more="Default: the file's column, else 1.")
@core_option(
    "--hedge",
    argument="hedge",
    type=click.Choice(["sum", "max"]),
    more="Default: the preset's rule, else sum.",
)
@click.option("--currency", help="Account currency for money: JPY (¥, no decimals), USD, USDT...")
@click.option(
    "--decimal",
    type=click.Choice([".", ","]),
    help="Decimal separator of the CSV's numbers (default: detected per file).",
)
@click.option("--sheet", help="Sheet of an xlsx input (default: the active visible sheet).")
@click.option(
    "--kind",
    type=click.Choice(["positions", "loans"]),
    help="What the file holds (default: told by its headers).",
)
@core_option("--loan-preset", argument="preset_id", more="Loans: the venue's LTV levels.")
@click.option("--loan-presets", "loan_presets_path", type=click.Path(), help="Your own loan presets CSV.")
@core_option("--margin-call-ltv", argument="level", function="ltv_price", type=LEVEL, more="Loans: 80%.")
@core_option("--liquidation-ltv", argument="level", function="ltv_price", type=LEVEL, more="Loans: 90%.")
@core_option("--target-ltv", argument="target", function="collateral_to_add", type=LEVEL, more="Loans: 65%.")
@PRESETS_OPTION
@lang_option
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
def report(
    input_path,
    output,
    deposit,
    prices_path,
    exchange_id,
    basis,
    margin_call_level,
    loss_cut_level,
    safe_level,
    tick,
    quote_rate,
    hedge,
    currency,
    decimal,
    sheet,
    kind,
    loan_preset,
    loan_presets_path,
    margin_call_ltv,
    liquidation_ltv,
    target_ltv,
    presets_path,
    lang,
    force,
    quiet,
):
    """Write a risk report workbook (Summary, Positions, Stress, Errors) from a positions file,
    or a loan report (Summary, Loans, Errors) from a loans file.

    INPUT is a CSV (UTF-8, UTF-8 with BOM, Shift_JIS or UTF-16; comma, semicolon or tab) or an
    xlsx, with English, Japanese or exchange-export headers.
    Example: xlcalc report positions.csv -o report.xlsx --deposit 1000000
    """
    from .report import build_report  # pandas/openpyxl only when needed

    result = build_report(
        input_path,
        output,
        deposit=deposit,
        prices=prices_path,
        exchange=exchange_id,
        basis=basis,
        lang=lang,
        force=force,
        progress=not quiet,
        margin_call=margin_call_level,
        loss_cut=loss_cut_level,
        presets=presets_path,
        safe_level=safe_level,
        tick_size=tick,
        quote_rate=quote_rate,
        hedge=hedge,
        currency=currency,
        decimal=decimal,
        sheet=sheet,
        kind=kind,
        loan_preset=loan_preset,
        loan_presets=loan_presets_path,
        margin_call_ltv=margin_call_ltv,
        liquidation_ltv=liquidation_ltv,
        target_ltv=target_ltv,
    )
    if not quiet:
        click.echo(
            label("report_done_loans" if result.kind == "loans" else "report_done", lang).format(
                output=result.output, positions=result.positions, errors=result.errors, rows=result.rows_in
            ),
            err=True,
        )
        # what the report could not base on the trader's figures (the Summary says it too)
        warnings = [
            ("report_warn_at_entry", result.at_entry),
            ("report_warn_not_in_prices", result.not_in_prices),
            ("report_warn_deposit_ignored", result.deposit_ignored),
        ]
        for key, found in warnings:
            if found:
                shown = f"{deposit:,.10g}" if isinstance(deposit, float) else deposit
                words = dict(
                    n=found, positions=result.positions, deposit=shown, header=result.deposit_ignored
                )
                click.echo(label(key, lang).format(**words), err=True)
    for note in result.notes:  # what was not read as rows, or not read: said even with -q
        click.echo(f"{label('report_notes', lang)}: {note}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
