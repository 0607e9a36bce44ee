"""The one error the core raises on bad input, in a module of its own so that the clients
that start without numpy (the command line, presets, the template) can raise and catch it.

:mod:`xlcalc._inputs` (and through it every core module) re-exports it: ``xlcalc.InputError``,
``xlcalc.core.InputError`` and ``xlcalc._inputs.InputError`` are this class.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Invalid input: the message names the argument, the value and, for arrays, the row.

    Errors raised by the argument checks also carry their parts, so that a client can say
    the same in another language (``xlcalc.labels.error_text``): ``argument`` (its name),
    ``expected`` (a key of :data:`xlcalc._inputs.EXPECTED`), ``value`` and ``row`` (None for
    a scalar).
    """

    def __init__(self, message, *, argument=None, expected=None, value=None, row=None):
        super().__init__(message)
        self.argument, self.expected, self.value, self.row = argument, expected, value, row
