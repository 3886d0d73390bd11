"""tinyweather: a small package that examples/distro/build-and-stage.sh stages,
byte-compiles with pycemit and installs, the way a distribution package would."""
from tinyweather.forecast import forecast, summary

__version__ = "1.0"
__all__ = ["forecast", "summary"]
