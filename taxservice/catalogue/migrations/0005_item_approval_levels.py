from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0004_item_limit_change"),
    ]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="team_kind",
            field=models.CharField(
                choices=[
                    ("coordination", "Coordination team"),
                    ("basic", "Basic team"),
                    ("risk", "Risk team"),
                    ("service", "Service team"),
                    ("custom", "Custom team"),
                    ("online_consultation", "Online consultation and guidance"),
                    ("online_processing", "Online processing"),
                    ("expert", "Expert team"),
                    ("publicity", "Publicity products"),
                    ("anchor", "Anchors"),
                    ("quality", "Quality inspection"),
                    ("coordination_post", "Task-coordination post"),
                    ("dispatched", "Dispatched staff"),
                    ("hall", "Hall window team"),
                    ("grid", "Grid service group"),
                    ("department", "Department desk"),
                ],
                max_length=24,
                verbose_name="team kind",
            ),
        ),
        migrations.AddField(
            model_name="item",
            name="approval_levels",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "Branch chief"), (2, "Team lead, then branch chief")],
                default=1,
                help_text="Where the item needs approval: how many steps, each recorded with its opinion.",
                verbose_name="approval steps",
            ),
        ),
        migrations.AddConstraint(
            model_name="item",
            constraint=models.CheckConstraint(
                condition=models.Q(("approval_levels__in", [1, 2])), name="item_approval_levels_1_or_2"
            ),
        ),
    ]
