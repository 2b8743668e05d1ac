"""Make the existing cases fit their channel before 0017 adds the rules.

- Remote contacts (12366, 征纳互动, e-tax app, remote video, 12345) lose their hall and are
  no longer cross-hall: until now every case had to name a hall, even a phone call. The
  hall stays on record in the case's "open" transition (`details.hall`), which the
  reverse reads back.
- Service-point cases never named their point: each is linked to an inactive placeholder
  point of the hall it named ("LEGACY-<hall code>"), so the rows keep saying where they
  came from, and loses the cross-hall flag (异厅通办 is a hall visit).
- Window visits are left as they are.
"""

from django.db import migrations

REMOTE = ["phone_12366", "online_interaction", "etax_app", "remote_video", "hotline_12345"]


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    ServicePoint = apps.get_model("grids", "ServicePoint")
    Case.objects.filter(channel__in=REMOTE).update(hall=None, cross_hall=False, service_point=None, scenario="")
    points = Case.objects.filter(channel="service_point", service_point__isnull=True)
    for hall_id in points.exclude(hall=None).values_list("hall_id", flat=True).distinct():
        hall = apps.get_model("org", "Branch").objects.get(pk=hall_id)
        point, _ = ServicePoint.objects.get_or_create(
            code=f"LEGACY-{hall.code}"[:32],
            defaults={
                "name": f"{hall.name} · service point (not recorded)"[:100],
                "address": "",
                "partner": "other",
                "branch_id": hall.pk,
                "active": False,
            },
        )
        points.filter(hall_id=hall_id).update(service_point=point, hall=None, cross_hall=False)
    Case.objects.exclude(channel__in=[*REMOTE, "hall_window"]).update(cross_hall=False)


def backwards(apps, schema_editor):
    """Give back each hall-less case the hall its opening named (the schema's NOT NULL needs one)."""
    Case = apps.get_model("cases", "Case")
    Branch = apps.get_model("org", "Branch")
    CaseTransition = apps.get_model("cases", "CaseTransition")
    for case in Case.objects.filter(hall__isnull=True).select_related("service_point", "accepted_by"):
        opened = CaseTransition.objects.filter(case=case, transition="open").first()
        code = (opened.details or {}).get("hall") if opened else None
        hall = Branch.objects.filter(code=code).first() if code else None
        if hall is None and case.service_point is not None:
            hall = case.service_point.branch
        case.hall = hall or case.accepted_by.home_branch
        case.save(update_fields=["hall"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_case_channel_fields"),
        ("grids", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
