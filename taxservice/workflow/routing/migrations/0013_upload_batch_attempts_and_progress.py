"""Bulk uploads that always end (issue #14): a batch counts the runs of its check and
import (`attempts`, bounded) and records its last progress (`progress_at`), which the
stuck-upload sweep reads."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("routing", "0012_back_office_rules_dispatch_at_random")]

    operations = [
        migrations.AddField(
            model_name="uploadbatch",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="uploadbatch",
            name="progress_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="last progress"),
        ),
    ]
