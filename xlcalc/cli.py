"""Command line: ``xlcalc calc | exchanges | template | report`` (SPEC §7).

A thin client of the core: it parses options, calls the core and prints. Errors are one
line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import math
import sys
import unicodedata

import click

from . import core
from ._inputs import InputError
from .labels import error_text, label
from .presets import exchange_presets, get_preset, preset_levels


class _Group(click.Group):
    """Turns xlcalc's own errors into one clear line instead of a traceback, in the
    command's --lang where the error can be said in it."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InputError, OSError) as exc:
            click.echo(f"xlcalc: error: {error_text(exc, ctx.meta.get(_LANG_KEY, 'en'))}", err=True)
            ctx.exit(2)


_LANG_KEY = "xlcalc.lang"


def _remember_lang(ctx, _param, value):
    # ctx.meta is shared by every context of the run, so the group's handler can read it
    ctx.meta[_LANG_KEY] = value
    return value


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xlcalc")
def main():
    """Margin-risk calculator: maintenance ratio, margin-call and loss-cut prices."""


def _display_width(text: str) -> int:
    # East Asian wide characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fmt_money(x: float) -> str:
    if x is None or math.isnan(x):
        return "-"
    return f"{x:,.2f}" if abs(x) < 1e15 else f"{x:.6g}"


def _fmt_pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x * 100:,.2f} %"


def _fmt_qty(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.8g}"


def _level_opt(value, preset_value, default):
    if value is not None:
        return value
    if preset_value is not None and not math.isnan(preset_value):
        return preset_value
    return default


def position_figures(*, side, entry, qty, leverage, deposit, price, basis, fees, margin_call_level,
                     loss_cut_level, gap_price=None, stop_price=None, risk=None):
    """Every figure of one position, as (key, value, kind) rows; kind picks the format."""
    args = dict(deposit=deposit, side=side, entry_price=entry, quantity=qty, leverage=leverage,
                basis=basis, fees=fees)
    ratio = core.maintenance_ratio(price=price, **args)
    # None: the exchange has no such level (shown as "none", unlike a level never reached).
    mc = core.margin_call_price(level=margin_call_level, **args) if not math.isnan(margin_call_level) else None
    lc = core.loss_cut_price(level=loss_cut_level, **args) if not math.isnan(loss_cut_level) else None
    bk = core.bankruptcy_price(deposit, side, entry, qty, fees=fees)
    target = margin_call_level if not math.isnan(margin_call_level) else loss_cut_level
    margin_price = price if core.parse_basis(basis) else entry
    rows = [
        ("notional", price * qty, "money"),
        ("required_margin", core.required_margin(margin_price, qty, leverage), "money"),
        ("pnl", core.unrealized_pnl(side, entry, price, qty), "money"),
        ("equity", core.equity(deposit, side, entry, price, qty, fees=fees), "money"),
        ("ratio", ratio, "pct"),
        ("status", core.status(ratio, margin_call_level, loss_cut_level), "status"),
        ("margin_call_price", mc, "trigger"),
        ("loss_cut_price", lc, "trigger"),
        ("bankruptcy_price", bk, "trigger"),
        ("additional_deposit", core.additional_deposit(price=price, target=target, **args), "money"),
        ("close_quantity", core.close_quantity(price=price, target=target, **args), "qty"),
    ]
    if gap_price is not None:
        rows.append(("shortfall", core.shortfall(deposit, side, entry, gap_price, qty, fees=fees), "money"))
    if stop_price is not None:
        rows.append(("stop_loss_amount", core.stop_loss_amount(side, entry, stop_price, qty), "money"))
        if risk is not None:
            rows.append(("position_size", core.position_size(deposit, risk, entry, stop_price, leverage), "qty"))
    return rows


def _render(rows, price, lang):
    lines = []
    width = max(_display_width(label(k, lang)) for k, _, _ in rows) + 2
    for key, value, kind in rows:
        name = label(key, lang)
        if kind == "money":
            text = _fmt_money(value)
        elif kind == "pct":
            text = _fmt_pct(value)
        elif kind == "qty":
            text = _fmt_qty(value)
        elif kind == "status":
            text = label(value, lang)
        else:  # a trigger price, with its distance from the current price
            if value is None:
                text = label("none", lang)
            elif math.isnan(value):
                text = f"- ({label('not_reachable', lang)})"
            else:
                move = value / price - 1
                text = f"{_fmt_money(value)}  ({label('distance', lang)} {_fmt_money(value - price)}, {move * 100:+.2f} %)"
        lines.append(name + " " * (width - _display_width(name)) + text)
    return "\n".join(lines)


@main.command()
@click.option("--side", required=True, help="long/short, buy/sell, 買い/売り or +1/-1.")
@click.option("--entry", type=float, required=True, help="Entry price (建値).")
@click.option("--qty", type=float, required=True, help="Quantity in base units (数量).")
@click.option("--leverage", type=float, help="Leverage (レバレッジ); default: the preset's maximum.")
@click.option("--deposit", type=float, required=True, help="Deposit / collateral (証拠金).")
@click.option("--price", type=float, help="Current or scenario price; default: the entry price.")
@click.option("--basis", type=click.Choice(["entry", "mark"]), help="Required margin on entry or current price.")
@click.option("--fees", type=float, default=0.0, show_default=True, help="Unpaid fees, leverage fee, funding.")
@click.option("--exchange", "exchange_id", help="Preset id (see `xlcalc exchanges`) for levels and basis.")
@click.option("--margin-call", "margin_call_level", type=float, help="Margin-call level as a fraction (1.0 = 100 %).")
@click.option("--loss-cut", "loss_cut_level", type=float, help="Loss-cut level as a fraction (0.5 = 50 %).")
@click.option("--gap-price", type=float, help="Fill price on a gap, for the shortfall.")
@click.option("--stop", "stop_price", type=float, help="Stop-loss price.")
@click.option("--risk", type=float, help="Fraction of the deposit to risk at the stop (0.02 = 2 %).")
@click.option("--presets", "presets_path", type=click.Path(), help="Your own presets CSV.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True, callback=_remember_lang)
def calc(side, entry, qty, leverage, deposit, price, basis, fees, exchange_id, margin_call_level,
         loss_cut_level, gap_price, stop_price, risk, presets_path, lang):
    """Print every figure of one position.

    Example: xlcalc calc --side long --entry 50000 --qty 0.2 --leverage 2 --deposit 5000 --price 25000
    """
    preset = get_preset(exchange_id, presets_path) if exchange_id else None
    if leverage is None:
        if preset is None or math.isnan(preset["max_leverage"]):
            raise InputError("leverage is required (--leverage) unless --exchange gives a maximum")
        leverage = preset["max_leverage"]
    levels = preset_levels(preset, leverage) if preset else {}
    margin_call_level = _level_opt(margin_call_level, levels.get("margin_call_level"),
                                   math.nan if preset else 1.0)
    loss_cut_level = _level_opt(loss_cut_level, levels.get("loss_cut_level"), math.nan if preset else 0.5)
    basis = basis or levels.get("basis") or "entry"
    price = entry if price is None else price
    rows = position_figures(side=side, entry=entry, qty=qty, leverage=leverage, deposit=deposit,
                            price=price, basis=basis, fees=fees, margin_call_level=margin_call_level,
                            loss_cut_level=loss_cut_level, gap_price=gap_price, stop_price=stop_price,
                            risk=risk)
    header = [
        f"{label('side', lang)}: {label('long' if core.parse_side(side) > 0 else 'short', lang)}   "
        f"{label('basis', lang)}: {label('mark' if core.parse_basis(basis) else 'entry', lang)}   "
        f"{label('margin_call_level', lang)}: {_fmt_pct(margin_call_level) if not math.isnan(margin_call_level) else label('none', lang)}   "
        f"{label('loss_cut_level', lang)}: {_fmt_pct(loss_cut_level) if not math.isnan(loss_cut_level) else label('none', lang)}",
    ]
    if preset:
        header.append(f"{label('exchange', lang)}: {preset['name']} {preset['product']} ({preset['source_url']}, {preset['as_of']})")
    click.echo("\n".join(header + ["", _render(rows, price, lang)]))


@main.command()
@click.option("--presets", "presets_path", type=click.Path(), help="Your own presets CSV (added to the built-in ones).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the full table as CSV.")
def exchanges(presets_path, as_csv):
    """List the exchange presets with their sources and dates."""
    table = exchange_presets(presets_path)
    if as_csv:
        click.echo(table.to_csv(index=False), nl=False)
        return
    for _, row in table.iterrows():
        levels = ", ".join(
            f"{name} {row[col] * 100:g} %" for col, name in
            (("margin_call_level", "margin call"), ("loss_cut_level", "loss-cut"), ("mmr", "mmr"))
            if not math.isnan(row[col]))
        click.echo(f"{row['id']:<28} {row['name']} {row['product']}: max {row['max_leverage']:g}x, "
                   f"{levels or 'levels not published'}, {row['basis']} basis")
        click.echo(f"{'':<28} source: {row['source_url']} (as of {row['as_of']})")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True, callback=_remember_lang,
              help="Language of the workbook (labels, dropdown words, status words).")
@click.option("--exchange", "exchange_id", help="Preset id to preselect (see `xlcalc exchanges`).")
@click.option("--udf", is_flag=True, help="Write an .xlsm whose formulas call the XLC_* functions (xlwings).")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def template(path, lang, exchange_id, udf, force):
    """Write the calculator workbook (native Excel formulas) to PATH (.xlsx; .xlsm with --udf).

    Example: xlcalc template calc.xlsx --lang ja --exchange bitflyer_cfd
    """
    from .template import build_template

    click.echo(build_template(path, lang=lang, exchange=exchange_id, udf=udf, force=force))


@main.command()
@click.option("--side", required=True, help="long/short, buy/sell, 買い/売り or +1/-1.")
@click.option("--entry", type=float, required=True, help="Entry price.")
@click.option("--qty", type=float, help="Quantity in base units (linear contracts).")
@click.option("--wallet", type=float, required=True, help="Wallet balance (isolated: position margin); coin with --inverse.")
@click.option("--price", type=float, help="Mark price for the maintenance margin and distance; default: entry.")
@click.option("--exchange", "exchange_id", help="Preset id: binance_usdm, bybit_usdt use their tier table.")
@click.option("--symbol", help="Contract in the exchange's tier file (default BTCUSDT).")
@click.option("--mmr", type=float, help="Maintenance margin rate (0.004 = 0.4 %); overrides the preset's tiers.")
@click.option("--cum", type=float, default=0.0, show_default=True, help="Maintenance amount with --mmr.")
@click.option("--taker-fee", type=float, default=0.0, show_default=True, help="Fee rate to close, added to the rate.")
@click.option("--other-maintenance", type=float, default=0.0, show_default=True, help="Cross: other positions' maintenance margin.")
@click.option("--other-pnl", type=float, default=0.0, show_default=True, help="Cross: other positions' unrealized P&L.")
@click.option("--inverse", "is_inverse", is_flag=True, help="Coin-margined contract (needs --contracts, --contract-value, --mmr).")
@click.option("--contracts", type=float, help="Number of inverse contracts.")
@click.option("--contract-value", type=float, help="Quote value of one inverse contract (e.g. 100 USD).")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True, callback=_remember_lang)
def liq(side, entry, qty, wallet, price, exchange_id, symbol, mmr, cum, taker_fee, other_maintenance,
        other_pnl, is_inverse, contracts, contract_value, lang):
    """Liquidation price of a perpetual (maintenance-margin-rate model, tiers, cross, inverse).

    Example: xlcalc liq --side long --entry 60000 --qty 1 --wallet 5000 --exchange binance_usdm
    """
    from . import inverse, perpetual

    price = entry if price is None else price
    cross = dict(other_maintenance=other_maintenance, other_pnl=other_pnl)
    header = []
    if is_inverse:
        if contracts is None or contract_value is None or mmr is None:
            raise click.UsageError("--inverse needs --contracts, --contract-value and --mmr "
                                   "(the shipped tier tables are for USDT-margined contracts)")
        args = dict(side=side, entry_price=entry, contracts=contracts, contract_value=contract_value)
        lp = inverse.liquidation_price(wallet, mmr=mmr, maintenance_amount=cum, taker_fee=taker_fee, **cross, **args)
        rows = [
            ("liquidation_price", lp, "trigger"),
            ("bankruptcy_price", inverse.bankruptcy_price(wallet, other_pnl=other_pnl, **args), "trigger"),
            ("margin_balance", inverse.equity(wallet, price=price, **args) + other_pnl, "qty"),
            ("maintenance_margin", inverse.maintenance_margin(price, contracts, contract_value, mmr, cum,
                                                              taker_fee=taker_fee), "qty"),
            ("mmr_used", mmr, "pct"),
        ]
        header.append(f"{label('inverse_contract', lang)}: {label('contracts', lang)} {contracts:g} x {contract_value:g}")
    else:
        if qty is None:
            raise click.UsageError("--qty is required (or --inverse with --contracts)")
        tiers = None
        if mmr is None:
            if not exchange_id:
                raise click.UsageError("give --mmr (and --cum) or --exchange with a tier table")
            try:
                tiers = perpetual.exchange_tiers(exchange_id, symbol)
            except InputError:
                if symbol:
                    raise
                mmr = get_preset(exchange_id)["mmr"]  # a preset with a rate but no tier file
                if math.isnan(mmr):
                    raise InputError(f"the {exchange_id} preset has no maintenance margin rate: give --mmr") from None
        args = dict(side=side, entry_price=entry, quantity=qty)
        lp = perpetual.liquidation_price(wallet, mmr=mmr, maintenance_amount=cum, tiers=tiers,
                                         taker_fee=taker_fee, **cross, **args)
        if tiers is not None:
            tier = perpetual.tier_for(lp * qty if not math.isnan(lp) else price * qty, tiers)
            used_rate = tier["mmr"]
            header.append(f"{label('tier_table', lang)}: {tiers.attrs['exchange']} {tiers.attrs['symbol']} "
                          f"({tiers.attrs['source_url']}, {tiers.attrs['as_of']})")
        else:
            used_rate = mmr
        rows = [
            ("liquidation_price", lp, "trigger"),
            ("bankruptcy_price", perpetual.bankruptcy_price(wallet, other_pnl=other_pnl, **args), "trigger"),
            ("notional", price * qty, "money"),
            ("margin_balance", wallet + other_pnl + core.unrealized_pnl(side, entry, price, qty), "money"),
            ("maintenance_margin", perpetual.maintenance_margin(price, qty, mmr, cum, tiers=tiers,
                                                                taker_fee=taker_fee), "money"),
            ("mmr_used", used_rate, "pct"),
        ]
    header.insert(0, f"{label('side', lang)}: {label('long' if core.parse_side(side) > 0 else 'short', lang)}   "
                     f"{label('wallet_balance', lang)}: {wallet:,.8g}   {label('taker_fee', lang)}: {_fmt_pct(taker_fee)}")
    click.echo("\n".join(header + ["", _render(rows, price, lang)]))


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The report .xlsx to write.")
@click.option("--deposit", type=float, help="Deposit of each cross-margin account (when the input has no deposit column).")
@click.option("--prices", "prices_path", type=click.Path(dir_okay=False), help="CSV of symbol,price: mark prices by symbol.")
@click.option("--exchange", "exchange_id", help="Preset id (see `xlcalc exchanges`) for levels and basis.")
@click.option("--basis", type=click.Choice(["entry", "mark"]), help="Required margin on entry or current price.")
@click.option("--margin-call", "margin_call_level", type=float, help="Margin-call level as a fraction (default 1.0).")
@click.option("--loss-cut", "loss_cut_level", type=float, help="Loss-cut level as a fraction (default 0.5).")
@click.option("--presets", "presets_path", type=click.Path(), help="Your own presets CSV.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True, callback=_remember_lang)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
def report(input_path, output, deposit, prices_path, exchange_id, basis, margin_call_level, loss_cut_level,
           presets_path, lang, force, quiet):
    """Write a risk report workbook (Summary, Positions, Stress, Errors) from a positions file.

    INPUT is a CSV (UTF-8, UTF-8 with BOM or Shift_JIS) or an xlsx, with English or Japanese
    headers. Example: xlcalc report positions.csv -o report.xlsx --deposit 1000000
    """
    from .report import build_report  # pandas/openpyxl only when needed

    result = build_report(input_path, output, deposit=deposit, prices=prices_path, exchange=exchange_id,
                          basis=basis, lang=lang, force=force, progress=not quiet,
                          margin_call=margin_call_level, loss_cut=loss_cut_level, presets=presets_path)
    if not quiet:
        click.echo(f"{result.output}: {result.positions} positions, {result.errors} rejected rows "
                   f"(of {result.rows_in})", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
