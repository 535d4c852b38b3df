"""Store products get a PLU (a short code typed at the counter, unique per store) and a deposit per unit."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_sweep_indexes"),
        ("merchants", "0007_till_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="storeproduct",
            name="deposit",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="storeproduct",
            name="plu",
            field=models.CharField(blank=True, max_length=5, verbose_name="PLU"),
        ),
        migrations.AddConstraint(
            model_name="storeproduct",
            constraint=models.UniqueConstraint(
                condition=models.Q(("plu", ""), _negated=True),
                fields=("merchant", "store", "plu"),
                name="storeproduct_unique_plu",
                violation_error_message="Another product of this store already has this PLU.",
            ),
        ),
        migrations.AddConstraint(
            model_name="storeproduct",
            constraint=models.CheckConstraint(
                condition=models.Q(("plu", ""), ("plu__regex", "^[0-9]{1,5}$"), _connector="OR"),
                name="storeproduct_plu_digits",
            ),
        ),
    ]
