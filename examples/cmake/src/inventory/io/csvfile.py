"""Stock lists as CSV: name,price_cents,quantity."""
import csv
import io

from inventory.model import Item, Stock

HEADER = ("name", "price_cents", "quantity")


def load(text):
    """Parses CSV text into a Stock."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and tuple(rows[0]) == HEADER, "missing header %r" % (HEADER,)
    return Stock(Item(name, int(price), int(quantity)) for name, price, quantity in rows[1:])


def dump(stock):
    """Formats a Stock as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for item in stock:
        writer.writerow((item.name, item.price_cents, item.quantity))
    return out.getvalue()
