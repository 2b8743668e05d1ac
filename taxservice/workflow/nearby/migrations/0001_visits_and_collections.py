"""Door-to-door visits (上门办) and materials collected at service points (代收办), with their logs."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0017_case_channel_constraints'),
        ('grids', '0001_initial'),
        ('org', '0003_open_tasks_help_text'),
        ('taxpayers', '0002_taxpayer_grid'),
    ]

    operations = [
        migrations.CreateModel(
            name='Collection',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('materials', models.TextField(verbose_name='materials')),
                ('state', models.CharField(choices=[('collected', 'Collected at the point'), ('handed_over', 'Handed over'), ('received', 'Received by the team'), ('returned', 'Returned')], default='collected', max_length=12, verbose_name='state')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='collected at')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last step at')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='cases.case', verbose_name='case')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='collected by')),
                ('service_point', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='grids.servicepoint', verbose_name='service point')),
                ('task', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='cases.task', verbose_name='task')),
                ('team', models.ForeignKey(help_text='The team the materials go to; its members mark them received and returned.', on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='org.team', verbose_name='handling team')),
            ],
            options={
                'verbose_name': 'collected materials',
                'verbose_name_plural': 'collected materials',
                'ordering': ['-updated_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='CollectionStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(max_length=16, verbose_name='step')),
                ('from_state', models.CharField(blank=True, choices=[('collected', 'Collected at the point'), ('handed_over', 'Handed over'), ('received', 'Received by the team'), ('returned', 'Returned')], max_length=12, verbose_name='from state')),
                ('to_state', models.CharField(choices=[('collected', 'Collected at the point'), ('handed_over', 'Handed over'), ('received', 'Received by the team'), ('returned', 'Returned')], max_length=12, verbose_name='to state')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('note', models.CharField(blank=True, max_length=500, verbose_name='note')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='actor')),
                ('collection', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='steps', to='nearby.collection', verbose_name='collection')),
            ],
            options={
                'verbose_name': 'collection step',
                'verbose_name_plural': 'collection steps',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Visit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scheduled_for', models.DateField(verbose_name='scheduled for')),
                ('address', models.CharField(max_length=200, verbose_name='address')),
                ('purpose', models.CharField(max_length=200, verbose_name='purpose')),
                ('state', models.CharField(choices=[('scheduled', 'Scheduled'), ('done', 'Done'), ('cancelled', 'Cancelled')], default='scheduled', max_length=12, verbose_name='state')),
                ('outcome', models.TextField(blank=True, verbose_name='outcome')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='done or cancelled at')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='scheduled by')),
                ('grid', models.ForeignKey(blank=True, help_text="The taxpayer's grid when the visit was scheduled.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='visits', to='grids.grid', verbose_name='grid')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='recorded by')),
                ('staff', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='visits_to_make', to='org.staff', verbose_name='visiting staff')),
                ('taxpayer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='visits', to='taxpayers.taxpayer', verbose_name='taxpayer')),
            ],
            options={
                'verbose_name': 'door-to-door visit',
                'verbose_name_plural': 'door-to-door visits',
                'ordering': ['-scheduled_for', '-id'],
            },
        ),
        migrations.CreateModel(
            name='VisitEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(max_length=16, verbose_name='action')),
                ('from_state', models.CharField(blank=True, choices=[('scheduled', 'Scheduled'), ('done', 'Done'), ('cancelled', 'Cancelled')], max_length=12, verbose_name='from state')),
                ('to_state', models.CharField(choices=[('scheduled', 'Scheduled'), ('done', 'Done'), ('cancelled', 'Cancelled')], max_length=12, verbose_name='to state')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='actor')),
                ('visit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='nearby.visit', verbose_name='visit')),
            ],
            options={
                'verbose_name': 'visit event',
                'verbose_name_plural': 'visit events',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.AddIndex(
            model_name='collection',
            index=models.Index(fields=['team', 'state'], name='collection_team_idx'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(fields=['staff', 'state', 'scheduled_for'], name='visit_staff_idx'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(fields=['grid', 'state', 'scheduled_for'], name='visit_grid_idx'),
        ),
        migrations.AddConstraint(
            model_name='visit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'done'), _negated=True), models.Q(('outcome', ''), _negated=True), _connector='OR'), name='visit_done_has_outcome'),
        ),
    ]
