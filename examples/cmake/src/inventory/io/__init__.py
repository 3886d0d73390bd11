"""Reading and writing stock lists."""
from inventory.io.csvfile import dump, load

__all__ = ["dump", "load"]
