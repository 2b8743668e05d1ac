"""The case's own audit log: a row when it opens and when it closes with its last task."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_set_based_reference_checks'),
        ('org', '0002_staff_open_tasks'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('transition', models.CharField(max_length=32, verbose_name='transition')),
                ('from_state', models.CharField(blank=True, choices=[('open', 'Open'), ('closed', 'Closed')], max_length=8, verbose_name='from state')),
                ('to_state', models.CharField(choices=[('open', 'Open'), ('closed', 'Closed')], max_length=8, verbose_name='to state')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('details', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('actor', models.ForeignKey(blank=True, help_text='Empty means the system (automation).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='actor')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transitions', to='cases.case', verbose_name='case')),
            ],
            options={
                'verbose_name': 'case transition',
                'verbose_name_plural': 'case transitions',
                'ordering': ['at', 'id'],
            },
        ),
    ]
