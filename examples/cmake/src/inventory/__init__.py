"""inventory: a small stock-keeping package, shipped as reproducible bytecode.

Built and installed by examples/cmake/CMakeLists.txt with add_python_bytecode().
"""
from inventory.model import Item, Stock

__all__ = ["Item", "Stock", "optimization_level"]
__version__ = "1.0"


def optimization_level():
    """The level the running code was compiled at: 0, 1 (asserts gone) or 2 (docstrings gone too)."""
    if __debug__:
        return 0
    return 1 if optimization_level.__doc__ else 2
