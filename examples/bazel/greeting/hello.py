"""Greets people; asserts vanish at -O, docstrings at -OO."""


def greet(name):
    """Returns a greeting for `name`."""
    assert name, "a name is required"
    return "Hello, %s!" % name


LANGUAGES = frozenset({"en", "fr", "de", "it", "es"})
