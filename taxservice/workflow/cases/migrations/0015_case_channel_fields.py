"""A case's intake fits its channel: the hall becomes optional; the service point, the
就近办 scenario and the remote channel's reference are added. (Rules: 0017.)"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_task_clocks"),
        ("grids", "0001_initial"),
        ("org", "0003_open_tasks_help_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="channel_reference",
            field=models.CharField(
                blank=True,
                help_text="The remote channel's own number: the call, chat or ticket.",
                max_length=64,
                verbose_name="channel reference",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="scenario",
            field=models.CharField(
                blank=True,
                choices=[
                    ("self_service", "Self-service 自助办"),
                    ("guided", "Guided 辅导办"),
                    ("remote", "Remote 远程办"),
                    ("collected", "Collected on behalf 代收办"),
                    ("door_to_door", "Door-to-door 上门办"),
                ],
                help_text="Only with a service point.",
                max_length=16,
                verbose_name="就近办 scenario",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="service_point",
            field=models.ForeignKey(
                blank=True,
                help_text="Only for a case opened at a 就近办 service point.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="grids.servicepoint",
                verbose_name="service point",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="cross_hall",
            field=models.BooleanField(
                default=False,
                help_text="A visit to a hall other than the competent branch's own.",
                verbose_name="cross-hall",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="hall",
            field=models.ForeignKey(
                blank=True,
                help_text="Only for a visit to a hall window.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="accepted_cases",
                to="org.branch",
                verbose_name="accepting hall",
            ),
        ),
    ]
