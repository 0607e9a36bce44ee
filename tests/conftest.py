"""Hypothesis profiles: CI runs a fixed, reproducible set of examples; local runs explore."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
