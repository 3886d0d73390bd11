"""chime: a tiny package installed by Meson, with pycemit writing its bytecode."""
from chime.core import ring

__all__ = ["ring"]
