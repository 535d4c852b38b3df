"""Stores and wholesalers carry their VAT ids (and a store its tax number and receipt footer); a store
shares its sales rate and stock with the wholesaler only when the owner says so (off for every store)."""

from django.db import migrations, models

import merchants.tax_ids


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0007_till_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="wholesaler",
            name="vat_id",
            field=models.CharField(
                blank=True, max_length=20, validators=[merchants.tax_ids.vat_id_validator], verbose_name="VAT id"
            ),
        ),
        migrations.AddField(
            model_name="store",
            name="vat_id",
            field=models.CharField(
                blank=True, max_length=20, validators=[merchants.tax_ids.vat_id_validator], verbose_name="VAT id"
            ),
        ),
        migrations.AddField(
            model_name="store",
            name="tax_number",
            field=models.CharField(blank=True, max_length=20, validators=[merchants.tax_ids.tax_number_validator]),
        ),
        migrations.AddField(
            model_name="store",
            name="receipt_footer",
            field=models.CharField(
                blank=True,
                help_text="Printed at the foot of every receipt, e.g. a thank-you or returns policy.",
                max_length=300,
            ),
        ),
        migrations.AddField(
            model_name="store",
            name="share_with_wholesaler",
            field=models.BooleanField(default=False),
        ),
    ]
