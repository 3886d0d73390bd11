"""Deprecated names, dropped in the next release (see the prune step)."""
from tinyweather.forecast import forecast as get_forecast  # noqa: F401
