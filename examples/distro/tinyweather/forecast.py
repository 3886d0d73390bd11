"""Forecasts (made up, deterministically)."""
from tinyweather.units import UNITS, convert

CITIES = {"Brno": 11.5, "Lyon": 14.0, "Oslo": 6.25}


def forecast(city, unit="C"):
    """Tomorrow's temperature in `city`, in `unit`."""
    assert unit in UNITS, "unit must be one of C, F, K"
    return round(convert(CITIES[city], unit), 2)


def summary(unit="C"):
    return ", ".join("%s %s %s" % (city, forecast(city, unit), unit) for city in sorted(CITIES))
