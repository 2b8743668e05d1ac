"""A case's intake fits its channel: a window visit names its hall, a service-point visit its
point and scenario, a remote contact no hall (and maybe its own reference); cross-hall
(异厅通办) is a fact of window visits only."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from taxservice.errors import InvalidInput
from taxservice.grids.models import ServicePoint
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, CaseTransition, Channel
from tests.nearby_support import make_grid

REMOTE = [
    Channel.PHONE_12366,
    Channel.ONLINE_INTERACTION,
    Channel.ETAX_APP,
    Channel.REMOTE_VIDEO,
    Channel.HOTLINE_12345,
]


def _open(org, taxpayer, items, **intake):
    return services.case_open(
        actor=org.clerk,
        taxpayer=taxpayer.credit_code,
        items=[services.RequestedItem(item=items["immediate"].code)],
        **intake,
    )


def test_a_12366_case_with_a_hall_is_refused(org, taxpayer, items):
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.PHONE_12366, hall=org.hall.code)
    assert refused.value.code == "hall_not_for_remote"
    assert "hall" in refused.value.fields
    assert not Case.objects.exists()


@pytest.mark.parametrize("channel", REMOTE)
def test_a_remote_contact_names_no_hall_keeps_its_reference_and_is_never_cross_hall(org, items, channel):
    from tests.factories import TaxpayerFactory

    elsewhere = TaxpayerFactory(competent_branch=org.source2)  # served by hall2: a visit to hall would be cross-hall
    case = _open(org, elsewhere, items, channel=channel, reference="REF-0001")
    assert case.hall is None and case.cross_hall is False
    assert case.channel_reference == "REF-0001"
    opened = CaseTransition.objects.get(case=case, transition="open")
    assert opened.details["reference"] == "REF-0001" and "hall" not in opened.details


def test_cross_hall_is_computed_for_window_visits_only(org, items):
    from tests.factories import TaxpayerFactory

    elsewhere = TaxpayerFactory(competent_branch=org.source2)
    visit = _open(org, elsewhere, items, channel=Channel.HALL_WINDOW, hall=org.hall.code)
    own = _open(org, elsewhere, items, channel=Channel.HALL_WINDOW, hall=org.hall2.code)
    call = _open(org, elsewhere, items, channel=Channel.PHONE_12366)
    assert (visit.cross_hall, own.cross_hall, call.cross_hall) == (True, False, False)


def test_a_window_visit_must_name_its_hall(org, taxpayer, items):
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.HALL_WINDOW)
    assert refused.value.code == "hall_required"


def test_a_service_point_visit_names_its_point_and_scenario(org, taxpayer, items):
    setup = make_grid(org)
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.SERVICE_POINT, scenario="guided")
    assert refused.value.code == "service_point_required"
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.SERVICE_POINT, service_point=setup.point.code)
    assert refused.value.code == "scenario_required"
    with pytest.raises(InvalidInput) as refused:
        _open(
            org,
            taxpayer,
            items,
            channel=Channel.SERVICE_POINT,
            service_point=setup.point.code,
            scenario="guided",
            hall=org.hall.code,
        )
    assert refused.value.code == "hall_not_for_service_point"
    case = _open(org, taxpayer, items, channel=Channel.SERVICE_POINT, service_point=setup.point.code, scenario="guided")
    assert (case.service_point, case.scenario, case.hall, case.cross_hall) == (setup.point, "guided", None, False)


def test_a_visit_carries_no_remote_reference_nor_a_scenario(org, taxpayer, items):
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.HALL_WINDOW, hall=org.hall.code, reference="12366-1")
    assert refused.value.code == "reference_not_for_visit"
    with pytest.raises(InvalidInput) as refused:
        _open(org, taxpayer, items, channel=Channel.HALL_WINDOW, hall=org.hall.code, scenario="guided")
    assert refused.value.code == "scenario_not_for_channel"


def test_the_database_refuses_a_remote_case_with_a_hall_and_a_cross_hall_call(org, taxpayer, items):
    case = _open(org, taxpayer, items, channel=Channel.PHONE_12366)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(hall=org.hall)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(cross_hall=True)


def test_a_remote_case_is_seen_by_the_accepting_clerks_hall(org, taxpayer, items):
    from taxservice.workflow.cases.selectors import case_list_for_staff
    from tests.factories import StaffFactory

    case = _open(org, taxpayer, items, channel=Channel.ETAX_APP)
    colleague = StaffFactory(home_branch=org.clerk.home_branch, roles=["clerk"])
    other_hall = StaffFactory(home_branch=org.hall2, roles=["clerk"])
    assert case_list_for_staff(staff=colleague).filter(pk=case.pk).exists()
    assert not case_list_for_staff(staff=other_hall).filter(pk=case.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_fits_existing_rows_to_their_channel(org, taxpayer):
    """0016 on rows written as before: a hall on every case, cross-hall calls, service-point
    cases with no point. (Migrates back to 0015 and forward again.)"""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0015_case_channel_fields"), ("nearby", None)])
    old = executor.loader.project_state([("cases", "0015_case_channel_fields")]).apps
    old_case = old.get_model("cases", "Case")
    common = {"taxpayer_id": taxpayer.pk, "accepted_by_id": org.clerk.pk}
    call = old_case.objects.create(channel="phone_12366", hall_id=org.hall2.pk, cross_hall=True, **common)
    visit = old_case.objects.create(channel="hall_window", hall_id=org.hall2.pk, cross_hall=True, **common)
    point = old_case.objects.create(channel="service_point", hall_id=org.hall.pk, cross_hall=True, **common)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    call, visit, point = (Case.objects.get(pk=row.pk) for row in (call, visit, point))
    assert (call.hall, call.cross_hall) == (None, False)
    assert (visit.hall, visit.cross_hall) == (org.hall2, True)
    assert point.hall is None and point.cross_hall is False and point.service_point.code == "LEGACY-H01"
    assert not ServicePoint.objects.get(code="LEGACY-H01").active
