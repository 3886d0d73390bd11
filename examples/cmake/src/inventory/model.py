"""Items and the stock that holds them."""


class Item:
    """One kind of thing in stock: a name, a unit price in cents and a quantity."""

    __slots__ = ("name", "price_cents", "quantity")

    def __init__(self, name, price_cents, quantity=0):
        assert isinstance(name, str) and name, "an item needs a name"
        assert price_cents >= 0, "prices are not negative"
        self.name = name
        self.price_cents = price_cents
        self.quantity = quantity

    def value_cents(self):
        """What the items of this kind in stock are worth."""
        return self.price_cents * self.quantity

    def __repr__(self):
        return "Item(%r, %d, %d)" % (self.name, self.price_cents, self.quantity)


class Stock:
    """Items by name."""

    def __init__(self, items=()):
        self._items = {}
        for item in items:
            self.add(item)

    def add(self, item):
        """Adds `item`, or its quantity to the item of that name."""
        assert isinstance(item, Item)
        if item.name in self._items:
            self._items[item.name].quantity += item.quantity
        else:
            self._items[item.name] = item

    def remove(self, name, quantity):
        """Takes `quantity` of `name` out of stock."""
        item = self._items[name]
        assert 0 < quantity <= item.quantity, "cannot remove %d of %d" % (quantity, item.quantity)
        item.quantity -= quantity

    def __iter__(self):
        return iter(sorted(self._items.values(), key=lambda i: i.name))

    def __len__(self):
        return len(self._items)
