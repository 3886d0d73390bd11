"""Rings a chime (the core of the example package)."""
from chime.formats import text


def ring(times=1):
    """Returns the sound of the chime rung `times` times."""
    assert times > 0, "ring at least once"
    return text.render(["ding"] * times)


def where():
    """The file name compiled into this function's code object (co_filename)."""
    return where.__code__.co_filename
