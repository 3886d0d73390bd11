# No docstrings and no asserts: its level-0 and level-1 pycs are identical,
# so `--hardlink-dupes` makes them one file.
KELVIN_OFFSET = 273.15
UNITS = frozenset({"C", "F", "K"})


def convert(celsius, unit):
    if unit == "C":
        return celsius
    if unit == "F":
        return celsius * 9 / 5 + 32
    if unit == "K":
        return celsius + KELVIN_OFFSET
    raise ValueError("unknown unit %r" % (unit,))
