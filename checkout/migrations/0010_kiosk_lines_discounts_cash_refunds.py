"""Order lines of more kinds than products (open-price items, deposits, return slips), scale labels kept on
the line and in the cart, discounts on lines and on whole sales, and refunds at the till (cash out of a shift).

Existing lines are products (the default kind) with no discount: nothing to fill in."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_plu_and_deposit"),
        ("checkout", "0009_counter_offline_sales"),
        ("merchants", "0007_till_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="cartline",
            name="cartline_unique_product",
        ),
        migrations.RemoveConstraint(
            model_name="order",
            name="order_total_nonnegative",
        ),
        migrations.AddField(
            model_name="cartline",
            name="code",
            field=models.CharField(blank=True, default="", max_length=14),
        ),
        migrations.AddField(
            model_name="order",
            name="deposit_total",
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name="order",
            name="discount_total",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="order",
            name="sale_discount",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="order",
            name="sale_discount_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="sale_discount_percent",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="order",
            name="sale_discount_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="orderline",
            name="code",
            field=models.CharField(blank=True, max_length=14),
        ),
        migrations.AddField(
            model_name="orderline",
            name="deposit_for",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deposit_lines",
                to="checkout.orderline",
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="discount",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="orderline",
            name="discount_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="discount_percent",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="orderline",
            name="discount_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="orderline",
            name="kind",
            field=models.CharField(
                choices=[
                    ("product", "Product"),
                    ("open_price", "Item without a barcode"),
                    ("deposit", "Deposit"),
                    ("deposit_return", "Deposit returned"),
                ],
                default="product",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="sale_discount",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="orderline",
            name="weight_grams",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="method",
            field=models.CharField(
                choices=[
                    ("stripe", "Card, through Stripe"),
                    ("cash", "Cash from the till"),
                    ("external_card", "On the card terminal"),
                ],
                default="stripe",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="shift",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cash_refunds",
                to="checkout.shift",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="subtotal",
            field=models.IntegerField(help_text="Sum of line totals, minor units."),
        ),
        migrations.AlterField(
            model_name="order",
            name="tax_total",
            field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="order",
            name="total",
            field=models.IntegerField(help_text="What the shopper pays, minor units."),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="line_total",
            field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="store_product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.storeproduct",
            ),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="tax_amount",
            field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="unit_price",
            field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="refund",
            name="stripe_reference",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name="shift",
            name="expected_cash",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Opening cash + cash taken − change given − cash refunded, fixed at the close.",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(
                condition=models.Q(("shift__isnull", False)), fields=["merchant", "shift"], name="refund_shift"
            ),
        ),
        migrations.AddConstraint(
            model_name="cartline",
            constraint=models.UniqueConstraint(
                fields=("merchant", "visit", "store_product", "code"), name="cartline_unique_product_label"
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("paid_at__isnull", True), _connector="OR"),
                name="order_paid_total_nonnegative",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "product"), ("store_product__isnull", False)),
                    models.Q(models.Q(("kind", "product"), _negated=True), ("store_product__isnull", True)),
                    _connector="OR",
                ),
                name="orderline_product_has_store_product",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "deposit"), _negated=True), ("deposit_for__isnull", False), _connector="OR"
                ),
                name="orderline_deposit_for_line",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "deposit_return"), ("line_total__lt", 0), ("unit_price__lt", 0)),
                    models.Q(
                        models.Q(("kind", "deposit_return"), _negated=True),
                        ("line_total__gte", 0),
                        ("unit_price__gte", 0),
                    ),
                    _connector="OR",
                ),
                name="orderline_only_returns_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ("product", "open_price")),
                    models.Q(("discount", 0), ("sale_discount", 0)),
                    _connector="OR",
                ),
                name="orderline_discount_on_sales",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("method", "cash"), ("shift__isnull", False)),
                    models.Q(models.Q(("method", "cash"), _negated=True), ("shift__isnull", True)),
                    _connector="OR",
                ),
                name="refund_cash_has_shift",
            ),
        ),
    ]
