"""Load xlcalc.udfs with classic xlwings' real registration decorators, on Linux.

``xlwings.udfs`` (the Windows COM UDF server: ``xlfunc``/``xlarg``/``xlret``,
``generate_vba_wrapper``, ``call_udf``) imports ``pythoncom``, ``pywintypes`` and
``win32com.client`` at import time. We insert minimal stand-ins for those three modules,
import ``xlwings.udfs``, point ``xlwings.func/arg/ret`` at its decorators, and execute
``xlcalc/udfs.py`` as a separate module object, so the package's own ``xlcalc.udfs`` and
every other test stay untouched. Everything is restored on exit.

``call_like_excel`` mirrors ``xlwings.udfs.call_udf``: a missing argument gets the Python
default, every other argument goes through ``xlwings.conversion.read`` with the options
the decorators registered, and the result through ``conversion.write``. The conversion
runs on a stand-in "excel" engine whose cell cleaning follows ``xlwings._xlwindows``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import sys
import types

import xlwings
import xlwings.main
from xlwings import conversion

import xlcalc

_STUBBED = ("pythoncom", "pywintypes", "win32com", "win32com.client", "xlwings.udfs")
CLASSIC_NAME = "xlcalc._udfs_classic"
MISSING = -2147352572  # what VBA hands over for an omitted optional argument
ENGINE = "excel"


class _ComError(Exception):
    pass


def _stub_modules():
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None
    pythoncom.IID_IDispatch = object()
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = _ComError
    win32com = types.ModuleType("win32com")
    client = types.ModuleType("win32com.client")

    def dispatch(*args, **kwargs):
        raise RuntimeError("no COM on this machine")

    client.Dispatch = dispatch
    win32com.client = client
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": win32com, "win32com.client": client}


class _EngineImpl:
    """The cell cleaning of xlwings._xlwindows.Engine, without COM."""

    name = ENGINE
    type = "desktop"
    ERRORS = {
        -2146826281: "#DIV/0!",
        -2146826246: "#N/A",
        -2146826259: "#NAME?",
        -2146826288: "#NULL!",
        -2146826252: "#NUM!",
        -2146826265: "#REF!",
        -2146826273: "#VALUE!",
    }

    @classmethod
    def clean_value_data(cls, data, datetime_builder, empty_as, number_builder, err_to_str):
        def clean(v):
            if v in ("", None):
                return empty_as
            if isinstance(v, int) and not isinstance(v, bool) and v in cls.ERRORS:
                return cls.ERRORS[v] if err_to_str else None
            return v

        return [[clean(v) for v in row] for row in data]

    @staticmethod
    def prepare_xl_data_element(x, options):
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return ""
        return float(x) if hasattr(x, "dtype") else x


@contextlib.contextmanager
def classic_udfs():
    """Yield ``(xlwings.udfs, module)``: xlcalc/udfs.py decorated by the real xlfunc/xlarg/xlret."""
    saved_modules = {name: sys.modules.get(name) for name in _STUBBED + (CLASSIC_NAME,)}
    saved_attrs = {name: getattr(xlwings, name) for name in ("func", "arg", "ret")}
    had_udfs_attr = hasattr(xlwings, "udfs")
    engines = xlwings.engines
    added_engine = ENGINE not in engines.engines_by_name
    try:
        sys.modules.update(_stub_modules())
        sys.modules.pop("xlwings.udfs", None)
        xludfs = importlib.import_module("xlwings.udfs")
        xlwings.func, xlwings.arg, xlwings.ret = xludfs.xlfunc, xludfs.xlarg, xludfs.xlret
        spec = importlib.util.spec_from_file_location(CLASSIC_NAME, xlcalc.__path__[0] + "/udfs.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[CLASSIC_NAME] = module
        spec.loader.exec_module(module)
        if added_engine:
            engines.add(xlwings.main.Engine(impl=_EngineImpl()))
        yield xludfs, module
    finally:
        if added_engine and ENGINE in engines.engines_by_name:
            engine = engines.engines_by_name.pop(ENGINE)
            engines.engines.remove(engine)
        for name, value in saved_attrs.items():
            setattr(xlwings, name, value)
        if not had_udfs_attr and hasattr(xlwings, "udfs"):
            delattr(xlwings, "udfs")
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def call_like_excel(function, *cells):
    """Call a registered UDF the way xlwings.udfs.call_udf does (values as Excel sends them).

    Each of ``cells`` is a scalar (one cell or a literal), a tuple of row tuples (a range,
    as COM delivers it) or ``MISSING`` for an omitted optional argument.
    """
    info = function.__xlfunc__
    args = []
    for i, value in enumerate(cells):
        arg_info = info["args"][min(i, len(info["args"]) - 1)]
        if isinstance(value, int) and value == MISSING:
            args.append(arg_info.get("optional", None))
        else:
            args.append(conversion.read(None, value, arg_info["options"]))
    # Python fills arguments omitted from the formula's end with their defaults, as VBA does
    result = function(*args)
    return conversion.write(result, None, info["ret"]["options"])


def office_js_cell(x):
    """How xlwings Lite and xlwings Server write one result cell (their Office.js engine).

    Their rule, restated here rather than imported (those parts are not BSD-licensed):
    None is an empty cell, a NaN is the error #NUM!, numpy numbers become floats.
    """
    if x is None:
        return ""
    if isinstance(x, float) and math.isnan(x):
        return "#NUM!"
    return float(x) if hasattr(x, "dtype") else x
