"""Order lines keep the category their product was in when sold; lines sold before take the product's category now.

The update runs across merchants (row-level security bypassed for this transaction only). Rollups
of existing installations: `manage.py analytics_rebuild` fills the new category-day cells.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_cost"),
        ("checkout", "0006_cost"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="category",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="catalog.category",
            ),
        ),
        migrations.RunSQL(
            [
                "SELECT set_config('app.rls_bypass', 'on', true)",
                "UPDATE checkout_orderline l SET category_id = p.category_id "
                "FROM catalog_storeproduct sp JOIN catalog_product p ON p.id = sp.product_id "
                "WHERE sp.id = l.store_product_id AND l.category_id IS NULL AND p.category_id IS NOT NULL",
            ],
            migrations.RunSQL.noop,
        ),
    ]
