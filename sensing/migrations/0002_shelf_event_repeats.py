"""An unsure shelf event seen again while it waits for review counts the repeat (times_seen, last_seen_at)
instead of queueing another row; at most one pending event per slot and change.

Pending events that repeat one another already are merged first, across merchants (row-level
security bypassed for this transaction only): the oldest stays and counts the others, which go.
"""

from django.db import migrations, models

MERGE = """
WITH ranked AS (
    SELECT id,
           first_value(id) OVER same AS kept,
           count(*) OVER same_all AS seen,
           max(occurred_at) OVER same_all AS last_seen
    FROM sensing_shelfevent
    WHERE review = 'pending'
    WINDOW same AS (PARTITION BY merchant_id, slot_id, kind, quantity ORDER BY occurred_at, id),
           same_all AS (PARTITION BY merchant_id, slot_id, kind, quantity)
), kept AS (
    UPDATE sensing_shelfevent e SET times_seen = r.seen, last_seen_at = r.last_seen
    FROM ranked r WHERE e.id = r.id AND r.id = r.kept AND r.seen > 1
)
DELETE FROM sensing_shelfevent e USING ranked r WHERE e.id = r.id AND r.id <> r.kept
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sensing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="shelfevent",
            name="times_seen",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="shelfevent",
            name="last_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(["SELECT set_config('app.rls_bypass', 'on', true)", MERGE], migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="shelfevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("review", "pending")),
                fields=("merchant", "slot", "kind", "quantity"),
                name="shelfevent_one_pending_per_change",
            ),
        ),
        migrations.AddConstraint(
            model_name="shelfevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("times_seen__gte", 1)), name="shelfevent_seen_at_least_once"
            ),
        ),
    ]
