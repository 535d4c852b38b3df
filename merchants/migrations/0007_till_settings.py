"""The rules at the till: the largest discount a clerk may give, and the prefix of the shop's deposit return slips."""

import merchants.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0006_managers_see_analytics"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="clerk_discount_limit",
            field=models.PositiveSmallIntegerField(
                default=10, help_text="Per cent of the price a discount is taken off; 0: clerks give no discounts."
            ),
        ),
        migrations.AddField(
            model_name="merchant",
            name="deposit_slip_prefix",
            field=models.CharField(
                blank=True,
                default="98",
                help_text="Return slips are EAN-13 codes starting with these digits; empty: none are taken.",
                max_length=3,
                validators=[merchants.models.deposit_slip_prefix_validator],
            ),
        ),
        migrations.AddConstraint(
            model_name="merchant",
            constraint=models.CheckConstraint(
                condition=models.Q(("clerk_discount_limit__lte", 100)), name="merchant_discount_limit_percent"
            ),
        ),
    ]
