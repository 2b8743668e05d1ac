"""The demo's 就近办: service points run with partners (township centres, banks, post
offices, villages, a park), door-to-door visits (scheduled and done) and materials
collected at the points, one lot in each state — all through the services.

`build_service_points` runs before the cases (service-point cases name a point);
`build_nearby_work` after them, and after the grids when the demo has them: it links each
point to the grids of its branch and schedules visits to taxpayers of a grid, by the grid's
staff. A demo without grids still gets visits, scheduled by a coordinator.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import Q
from django.utils import timezone

from taxservice.audit import AppendOnly
from taxservice.grids.models import Grid, ServicePoint
from taxservice.org.models import Branch, Staff, Team
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Case, Channel, Scenario
from taxservice.workflow.nearby import services
from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent

from .clock import DemoClock
from .organisation import Organisation

P = ServicePoint.Partner

# code, name, address, partner, branch the point reports to, opening hours, contact
POINTS = (
    (
        "SP-H01-01",
        "城东街道便民服务中心办税点",
        "城东街道人民路88号便民服务中心一楼",
        P.TOWNSHIP_CENTRE,
        "H01",
        "工作日 9:00-17:00",
        "0571-8800 1101",
    ),
    (
        "SP-H01-02",
        "邮储银行城东支行便民办税点",
        "城东街道解放路12号邮储银行",
        P.BANK,
        "H01",
        "周一至周六 9:00-16:30",
        "0571-8800 1102",
    ),
    (
        "SP-H01-03",
        "青山村党群服务中心代办点",
        "青山镇青山村村委会",
        P.VILLAGE,
        "H01",
        "每周二、四 9:00-12:00",
        "0571-8800 1103",
    ),
    (
        "SP-H02-01",
        "城西邮政所便民办税点",
        "城西街道文化路3号邮政所",
        P.POST_OFFICE,
        "H02",
        "工作日 8:30-17:30",
        "0571-8800 1201",
    ),
    ("SP-H02-02", "高新园区企业服务驿站", "高新园区创业大厦二楼", P.PARK, "H02", "工作日 9:00-18:00", "0571-8800 1202"),
    (
        "SP-H02-03",
        "西湖镇便民服务中心办税点",
        "西湖镇镇政府东侧服务大厅",
        P.TOWNSHIP_CENTRE,
        "H02",
        "工作日 9:00-17:00",
        "0571-8800 1203",
    ),
    ("SP-H02-04", "农商银行西湖支行办税点", "西湖镇新街45号", P.BANK, "H02", "工作日 9:00-16:00", ""),
)
# How cases at a point are handled: collected materials and guidance most often.
SCENARIO_WEIGHTS = (
    (Scenario.COLLECTED, 4),
    (Scenario.GUIDED, 3),
    (Scenario.SELF_SERVICE, 2),
    (Scenario.REMOTE, 2),
    (Scenario.DOOR_TO_DOOR, 1),
)
PURPOSES = ("上门辅导电子税务局申报", "核实经营地址", "送达税务文书", "帮助办理发票申领", "政策宣传与需求走访")
OUTCOMES = (
    "已现场辅导完成申报，纳税人掌握操作",
    "经营地址属实，已拍照留存",
    "文书已当面送达，纳税人签收",
    "已协助完成发票申领，次日可领取",
    "已了解企业需求，反馈至网格服务团队",
)
MATERIALS = ("营业执照复印件、法人身份证复印件", "发票领用簿及印章", "财务报表（纸质）两份", "注销申请表及清税材料")


def build_service_points(branches: dict[str, Branch]) -> list[ServicePoint]:
    points = []
    for code, name, address, partner, branch, hours, contact in POINTS:
        points.append(
            ServicePoint.objects.create(
                code=code,
                name=name,
                address=address,
                partner=partner,
                branch=branches[branch],
                opening_hours=hours,
                contact=contact,
                active=True,
            )
        )
    # One point that has closed: lists show it as inactive, the counter no longer offers it.
    points[-1].active = False
    points[-1].save(update_fields=["active"])
    return points


def build_nearby_work(rng: random.Random, organisation: Organisation, case_ids: list[int]) -> None:
    """Link the points to their grids; visits; materials collected for service-point cases."""
    points = list(ServicePoint.objects.filter(code__in=[row[0] for row in POINTS]).select_related("branch"))
    grids = list(Grid.objects.select_related("team", "leader", "branch").order_by("code"))
    for point in points:
        served = [g for g in grids if g.branch_id == point.branch_id or g.branch.home_hall_id == point.branch_id]
        if served:
            point.grids.add(*rng.sample(served, k=min(len(served), 2)))
    _visits(rng, organisation, grids)
    _collections(rng, organisation, case_ids)


def _visits(rng: random.Random, organisation: Organisation, grids: list[Grid]) -> None:
    coordinator = organisation.staff["coordinator1"]
    plans: list[tuple[Taxpayer, Staff, Staff]] = []  # taxpayer, who schedules, who goes
    for grid in grids[:4]:
        staff = list(grid.team.members.all().order_by("pk")) + ([grid.leader] if grid.leader else [])
        payers = list(Taxpayer.objects.filter(grid=grid).order_by("pk")[:6])
        if staff and payers:
            plans += [(payer, rng.choice(staff), rng.choice(staff)) for payer in payers]
    if not plans:  # no grids in this demo: the coordination post plans the visits
        payers = list(Taxpayer.objects.filter(competent_branch__code__in=("SRC1", "SRC2")).order_by("pk")[:8])
        plans = [(payer, coordinator, coordinator) for payer in payers]
    today = timezone.localdate()
    clock = DemoClock()
    for position, (payer, scheduler, goer) in enumerate(plans):
        scheduler = Staff.objects.get(pk=scheduler.pk)  # fresh: no stale team cache
        kind = position % 3
        # A visit made is one from the past weeks: planned two days before it was made,
        # each step written at its time on the demo's clock (nothing is re-dated).
        days = rng.randint(3, 30) if kind else 0
        when = timezone.now() - dt.timedelta(days=days)
        planned_at = when - dt.timedelta(days=2) if kind else None
        with clock.at(planned_at) if planned_at is not None else clock.running():
            visit = services.visit_schedule(
                actor=scheduler,
                taxpayer=payer.credit_code,
                scheduled_for=(today - dt.timedelta(days=days))
                if kind
                else today + dt.timedelta(days=rng.randint(0, 10)),
                address=f"{payer.name}经营地址",
                purpose=rng.choice(PURPOSES),
                staff_id=goer.pk,
            )
        if kind == 0:
            continue  # still to make
        with clock.at(when):
            if kind == 1:
                services.visit_record(
                    actor=Staff.objects.get(pk=goer.pk), visit_id=visit.pk, outcome=rng.choice(OUTCOMES)
                )
            elif position % 6 == 2:
                services.visit_cancel(actor=scheduler, visit_id=visit.pk, reason="纳税人已自行通过电子税务局办结")
            else:
                services.visit_record(
                    actor=Staff.objects.get(pk=goer.pk), visit_id=visit.pk, outcome=rng.choice(OUTCOMES)
                )


def _collections(rng: random.Random, organisation: Organisation, case_ids: list[int]) -> None:
    cases = list(
        Case.objects.filter(pk__in=case_ids, channel=Channel.SERVICE_POINT, scenario=Scenario.COLLECTED)
        .select_related("service_point", "accepted_by", "taxpayer__competent_branch")
        .order_by("pk")
    )
    coordinator = organisation.staff["coordinator1"]
    steps = ("hand_over", "receive", "return")
    for position, case in enumerate(cases):
        if not case.service_point.active:
            continue
        task = case.tasks.exclude(team=None).select_related("team").order_by("pk").first()
        team = (
            task.team
            if task is not None
            else Team.objects.filter(kind=Team.Kind.BASIC, branch=case.taxpayer.competent_branch).first()
        )
        if team is None:
            continue
        opener = Staff.objects.get(pk=case.accepted_by_id)
        collection = services.collection_open(
            actor=opener if opener.has_role("clerk") else coordinator,
            service_point=case.service_point.code,
            case_id=case.pk,
            task_id=task.pk if task is not None else None,
            team=team.code,
            materials=rng.choice(MATERIALS),
            note="纳税人在服务点提交，待转交",
        )
        receivers = organisation.members.get(team.pk) or [coordinator]
        for step in steps[: position % 4]:  # one lot in each state
            actor = opener if step == "hand_over" and opener.has_role("clerk") else rng.choice(receivers)
            services.collection_step(
                actor=Staff.objects.get(pk=actor.pk), collection_id=collection.pk, step=step, note=""
            )


def delete_demo_nearby(*, branches: list[int], staff: list[int], taxpayers: list[int]) -> None:
    """Before the demo's cases and taxpayers go: its visits and collected materials (and logs)."""
    visits = Visit.objects.filter(Q(taxpayer__in=taxpayers) | Q(staff__in=staff) | Q(created_by__in=staff))
    AppendOnly.purge(VisitEvent.objects.filter(visit__in=visits))  # the sanctioned reset (as the owner)
    visits.delete()
    collections = Collection.objects.filter(
        Q(service_point__branch__in=branches) | Q(created_by__in=staff) | Q(case__taxpayer__in=taxpayers)
    )
    AppendOnly.purge(CollectionStep.objects.filter(collection__in=collections))
    collections.delete()


def delete_demo_points(*, branches: list[int]) -> None:
    """After the demo's cases: its service points (the cases pointed at them)."""
    ServicePoint.objects.filter(branch__in=branches).delete()
