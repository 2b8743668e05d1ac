"""The channel rule as database constraints, once 0016 has made the existing rows fit it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_channel_fit_existing_cases"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel", "hall_window"), ("hall__isnull", False)),
                    models.Q(models.Q(("channel", "hall_window"), _negated=True), ("hall__isnull", True)),
                    _connector="OR",
                ),
                name="case_hall_only_for_window_visits",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel", "service_point"), ("service_point__isnull", False)),
                    models.Q(models.Q(("channel", "service_point"), _negated=True), ("service_point__isnull", True)),
                    _connector="OR",
                ),
                name="case_service_point_only_for_point_visits",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("scenario", ""), ("service_point__isnull", False), _connector="OR"),
                name="case_scenario_only_at_a_service_point",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("cross_hall", False), ("channel", "hall_window"), _connector="OR"),
                name="case_cross_hall_only_for_window_visits",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("channel_reference", ""),
                    ("channel__in", ["etax_app", "hotline_12345", "online_interaction", "phone_12366", "remote_video"]),
                    _connector="OR",
                ),
                name="case_reference_only_for_remote_contacts",
            ),
        ),
    ]
