"""A one-line-per-item summary with a total."""
UNITS = frozenset({"cents", "euros", "dollars"})


def summary(stock, unit="cents"):
    """Returns the summary of `stock` as text, values in `unit`."""
    assert unit in UNITS, unit
    divisor = 1 if unit == "cents" else 100
    lines = ["%-12s %6d x %8.2f" % (i.name, i.quantity, i.price_cents / divisor) for i in stock]
    total = sum(i.value_cents() for i in stock)
    lines.append("%-12s %19.2f" % ("total", total / divisor))
    return "\n".join(lines)
