"""The flash sale form: times in the shop's time zone, and a sale price and a stock per
package, typed in a table of the shop's packages (no JavaScript needed)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from merchant.catalog import flash_sales
from merchant.core import money, shop_settings
from merchant.core.models import FlashSale
from merchant.web.admin.fields import WHOLE_NUMBER, LineField


class FlashSaleForm(FlaskForm):
    name = LineField(_l("Name"), validators=[DataRequired(
        _l("Give the sale a name customers will see, like Flash Sale 12.12."))])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired(
        _l("Enter when the sale starts."))])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired(
        _l("Enter when the sale ends."))])
    max_per_contact = IntegerField(_l("Units per customer"), render_kw=WHOLE_NUMBER, validators=[
        Optional(), NumberRange(min=1, max=10_000, message=_l("At least 1, or empty."))])
    with_promo = BooleanField(_l("Promo codes may take more off the sale price"))
    active = BooleanField(_l("Run the sale"), default=True)
    allow_below_cost = BooleanField(_l("Allow below cost"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items: list[flash_sales.ItemValues] = []
        self.typed: dict[str, str] = {}         # "price-<id>" / "stock-<id>" -> as typed
        self.item_errors: list[str] = []

    @classmethod
    def of(cls, sale: FlashSale) -> FlashSaleForm:
        form = cls(data={"name": sale.name, "starts_at": shop_settings.to_local(sale.starts_at),
                         "ends_at": shop_settings.to_local(sale.ends_at),
                         "max_per_contact": sale.max_per_contact,
                         "with_promo": sale.with_promo, "active": sale.active,
                         "allow_below_cost": sale.allow_below_cost})
        if not form.is_submitted():
            for item in sale.items:
                currency = item.package.currency
                form.typed[f"price-{item.package_id}"] = money.for_input(item.sale_price,
                                                                         currency)
                form.typed[f"stock-{item.package_id}"] = str(item.stock)
        return form

    def read_items(self, formdata, packages) -> bool:
        """The packages given a sale price (and a stock), from the table's fields."""
        valid = True
        for _product, rows in packages:
            for package in rows:
                price = (formdata.get(f"price-{package.id}") or "").strip()
                stock = (formdata.get(f"stock-{package.id}") or "").strip()
                self.typed[f"price-{package.id}"], self.typed[f"stock-{package.id}"] = price, stock
                if not price and not stock:
                    continue
                try:
                    amount = money.to_minor(price, package.currency)
                    units = int(stock)
                except ValueError:
                    self.item_errors.append(_(
                        "%(package)s: enter a sale price in %(currency)s and a whole number "
                        "of units, like %(price)s and 10.", package=package.name,
                        currency=package.currency,
                        price=money.for_input(package.price * 9 // 10, package.currency)))
                    valid = False
                    continue
                self.items.append(flash_sales.ItemValues(package.id, amount, units))
        return valid

    def values(self) -> dict:
        return {"name": self.name.data, "starts_at": shop_settings.to_utc(self.starts_at.data),
                "ends_at": shop_settings.to_utc(self.ends_at.data),
                "max_per_contact": self.max_per_contact.data, "with_promo": self.with_promo.data,
                "active": self.active.data, "allow_below_cost": self.allow_below_cost.data}
