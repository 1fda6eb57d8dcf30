"""Margins: whether a price loses money against what a package costs us.

Its own module (money only) so that the price import and the promo codes, which the order
code imports, can both ask it without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from merchant.core import money
from merchant.core.models import Package


@dataclass(frozen=True)
class Loss:
    """A price below a supplier's cost. str() is English, for the audit log; said() is in the
    reader's language, for the panel."""
    package: str
    price: money.Money
    cost: money.Money
    fallback: bool          # the fallback supplier's cost, not the supplier's

    def __str__(self) -> str:
        whose = "the fallback supplier's" if self.fallback else "the supplier's"
        return f"{self.package}: {self.price.format()} is below {whose} cost {self.cost.format()}"

    def said(self) -> str:
        values = {"package": self.package, "price": self.price.format(),
                  "cost": self.cost.format()}
        if self.fallback:
            return _("%(package)s: %(price)s is below the fallback supplier's cost %(cost)s",
                     **values)
        return _("%(package)s: %(price)s is below the supplier's cost %(cost)s", **values)


def below_cost(package: Package, price: int) -> Loss | None:
    """How selling `package` at `price` loses money, or None.

    The fallback supplier's cost counts too: a failover at a loss is still a loss.
    """
    def loss(cost: int, fallback: bool) -> Loss:
        return Loss(package.name, money.Money(price, package.currency),
                    money.Money(cost, package.currency), fallback)
    if package.supplier_cost is not None and price < package.supplier_cost:
        return loss(package.supplier_cost, fallback=False)
    if package.fallback_supplier and package.fallback_cost is not None \
            and price < package.fallback_cost:
        return loss(package.fallback_cost, fallback=True)
    return None
