"""Plain-text output."""


def render(words):
    """Joins the words of a chime with dashes."""
    return "-".join(words) + "!"
