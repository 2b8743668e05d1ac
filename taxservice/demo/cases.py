"""The demo's cases, played through the services with actors the policy allows.

Each case is opened with `case_open`, and each of its tasks is taken through the steps
of its scenario (`scenarios.py`) with `task_transition`. A task that screening marks for
auto-dispatch is dispatched by the robot's own service, `task_dispatch`, with a seed
drawn from the demo's generator, so the choice is repeatable and replayable from its
decision row. The first cases are forced to end in each task state, so every state appears.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

from taxservice.catalogue.models import HandlingList, Item
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Branch, Role, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import OPEN_STATES, Case, Channel, Task, TaskState
from taxservice.workflow.routing import engine
from taxservice.workflow.routing import services as routing_services

from .draw import weighted
from .histories import Timeline
from .nearby import SCENARIO_WEIGHTS
from .organisation import CHIEF_OF, HALLS, Organisation
from .scenarios import CHANNELS, FORCED_STATES, NOTES, channel_reference, plan, target_for, texts

R = Role

EXTENSION_STEPS = frozenset({"request_extension", "approve_extension", "reject_extension"})


class CaseBuilder:
    """Opens the demo's cases and plays their tasks' scenarios, minding each member's capacity."""

    def __init__(
        self,
        *,
        rng: random.Random,
        organisation: Organisation,
        taxpayers: list[Taxpayer],
        progress: Callable[[int, int], None],
        points: list[ServicePoint],
        timeline: Timeline | None = None,
    ) -> None:
        self.rng = rng
        # Each service call runs inside a step of the timeline (histories.py): noted in the
        # first pass, at its planned time in the second.
        self.step = timeline.step if timeline is not None else contextlib.nullcontext
        self.progress = progress
        self.branches = organisation.branches
        self.staff = organisation.staff
        self.staff_by_pk = organisation.staff_by_pk
        self.members = organisation.members
        self.taxpayers = taxpayers
        self.load: dict[int, int] = dict.fromkeys(organisation.staff_by_pk, 0)  # staff pk -> open tasks held
        self.holding: dict[int, int] = {}  # task pk -> staff pk counted in `load`
        self.case_ids: list[int] = []
        self.seat: dict[int, Branch] = {}  # case pk -> the hall whose clerks took it
        self.points = [point for point in points if point.active]
        self.immediate: list[Item] = []
        self.moved_forward: list[Item] = []
        self.city_items: list[Item] = []
        self.joint: list[Item] = []
        self.grid: list[Item] = []
        self.transferable: list[Item] = []

    def build(self, count: int) -> list[int]:
        """Open `count` cases and play them; return their ids, in the order they were opened."""
        if not self.taxpayers:
            return self.case_ids
        items = list(Item.objects.filter(active=True).order_by("code"))
        self.immediate = [i for i in items if i.handling_list == HandlingList.IMMEDIATE and i.tier == Tier.FRONT]
        self.moved_forward = [i for i in items if i.moved_forward]
        self.city_items = [
            i
            for i in items
            if i.handling_list == HandlingList.ASSISTED and i.tier == Tier.MIDDLE and not i.moved_forward
        ]
        self.joint = [i for i in items if i.handling_list == HandlingList.JOINT]
        self.grid = [i for i in items if i.tier == Tier.GRID]
        self.transferable = self.moved_forward + self.city_items + self.joint + self.grid
        if not self.immediate or not self.transferable:
            raise RuntimeError("The item catalogue is empty: run the migrations first (catalogue 0002 seeds it).")
        for index in range(count):
            forced = FORCED_STATES[index] if index < len(FORCED_STATES) else None
            self._one_case(forced)
            self.progress(index + 1, count)
        return self.case_ids

    def _pick_items(self, channel: str, *, forced: str | None, opener_is_clerk: bool, taxpayer: Taxpayer) -> list[Item]:
        rng = self.rng
        by_code = {i.code: i for i in self.immediate + self.transferable}
        if forced is not None:
            if forced == TaskState.RECEIVED:
                return [rng.choice(self.immediate)]
            pool = [i for i in self.transferable if i.tier != Tier.GRID]
            if forced == TaskState.AWAITING_APPROVAL:
                pool = [i for i in pool if i.needs_approval]
            if forced == TaskState.QUEUED:
                # Only a task the robot leaves alone stays in the queue.
                pool = [
                    i
                    for i in pool
                    if not engine.classify(item=i, source=Task.Source.FRONT_DESK, taxpayer=taxpayer).auto_dispatch
                ] or pool
            return [rng.choice(pool)]
        if channel == Channel.HOTLINE_12345 and "FB006" in by_code:
            return [by_code["FB006"]]
        if channel == Channel.PHONE_12366 and "FB005" in by_code and rng.random() < 0.5:
            return [by_code["FB005"]]
        if channel == Channel.SERVICE_POINT and self.grid and rng.random() < 0.6:
            return [rng.choice(self.grid)]
        wanted = weighted(rng, [(1, 68), (2, 24), (3, 8)])
        chosen: list[Item] = []
        while len(chosen) < wanted:
            kind = weighted(
                rng,
                [
                    ("immediate", 46 if opener_is_clerk else 0),
                    ("moved_forward", 27),
                    ("city", 14),
                    ("joint", 9),
                    ("grid", 4),
                ],
            )
            pool = {
                "immediate": self.immediate,
                "moved_forward": self.moved_forward,
                "city": [i for i in self.city_items if i.code not in ("FB005", "FB006")] or self.city_items,
                "joint": self.joint,
                "grid": self.grid,
            }[kind] or self.transferable
            # High-frequency items come up three times as often.
            item = rng.choices(pool, weights=[3 if i.high_frequency else 1 for i in pool], k=1)[0]
            if item not in chosen:
                chosen.append(item)
        return chosen

    def _one_case(self, forced: str | None) -> None:
        rng = self.rng
        taxpayer = rng.choice(self.taxpayers)
        channel = Channel.HALL_WINDOW if forced is not None else weighted(rng, CHANNELS)
        home_hall = taxpayer.competent_branch.home_hall_id
        halls = [self.branches[code] for code in HALLS]
        own = [hall for hall in halls if hall.pk == home_hall] or halls
        # The hall whose clerks take the contact: the one visited, the one the remote seat
        # belongs to, or the one the service point reports to.
        hall = rng.choice(own) if rng.random() < 0.8 else rng.choice([h for h in halls if h not in own] or halls)
        intake: dict[str, str] = {}
        if channel == Channel.HALL_WINDOW:
            intake["hall"] = hall.code
        elif channel == Channel.SERVICE_POINT:
            point = rng.choice(self.points)
            hall = next((h for h in halls if h.pk == point.branch_id), hall)
            intake |= {"service_point": point.code, "scenario": weighted(rng, SCENARIO_WEIGHTS)}
        else:
            intake["reference"] = channel_reference(rng, channel)
        opener_is_clerk = not (
            channel in (Channel.HOTLINE_12345, Channel.ONLINE_INTERACTION, Channel.ETAX_APP) and rng.random() < 0.6
        )
        opener = self._clerk_of(hall) if opener_is_clerk else self.staff["integrator1"]
        items = self._pick_items(channel, forced=forced, opener_is_clerk=opener_is_clerk, taxpayer=taxpayer)
        notes = rng.choice(NOTES)
        with self.step():
            case = services.case_open(
                actor=opener,
                taxpayer=taxpayer.credit_code,
                channel=channel,
                items=[services.RequestedItem(item=item.code) for item in items],
                notes=notes,
                **intake,
            )
        self.case_ids.append(case.pk)
        self.seat[case.pk] = hall
        tasks = list(case.tasks.select_related("item").order_by("pk"))
        for position, task in enumerate(tasks):
            target = forced if (forced is not None and position == 0) else target_for(self.rng, task.item)
            self._run(task, target=target, case=case, opener=opener)

    def _reload(self, task: Task) -> Task:
        return Task.objects.select_related("item", "team", "team__branch", "case").get(pk=task.pk)

    def _run(self, task: Task, *, target: str, case: Case, opener: Staff) -> None:
        avoid: Staff | None = None
        for name in plan(self.rng, task.item, target):
            task = self._reload(task)
            if name == "assign" and task.state != TaskState.QUEUED:
                continue  # the robot dispatched it already
            if name == "reassign" and task.state not in (TaskState.ASSIGNED, TaskState.IN_PROGRESS):
                continue
            if name in EXTENSION_STEPS and (task.tier != Tier.BACK or self._chief_for(task) is None):
                continue  # only a tax-source branch's chief decides on extensions
            kwargs: dict = {"task_id": task.pk, "name": name, **texts(self.rng, name, channel=case.channel)}
            actor: Staff | None
            if name in ("assign", "reassign"):
                actor, assignee = self._assignment(task, name=name, avoid=avoid)
                kwargs["assignee_id"] = assignee.pk
            else:
                actor = self._actor(task, name, case=case, opener=opener)
            if name in ("return", "reassign"):
                avoid = self.staff_by_pk.get(task.assignee_id)
            with self.step():
                task = services.task_transition(actor=actor, **kwargs)
            self._track_load(task)
            if task.state == TaskState.QUEUED and task.auto_dispatch:
                self._robot_dispatch(task)

    def _robot_dispatch(self, task: Task) -> None:
        """What the robot does right after a task lands in an auto-dispatch queue.

        The dispatch service runs the real pipeline; the seed comes from the demo's
        generator, so the choice is repeatable (and replayable from the decision row).
        When nobody is eligible the coordination post assigns it by hand.
        """
        seed = self.rng.getrandbits(48)
        with self.step():
            routing_services.task_dispatch(task_id=task.pk, actor=None, seed=seed)
        task = self._reload(task)
        self._track_load(task)
        if task.state == TaskState.QUEUED:
            actor, assignee = self._assignment(task, name="assign", avoid=None, by_hub=True)
            with self.step():
                task = services.task_transition(task_id=task.pk, actor=actor, name="assign", assignee_id=assignee.pk)
            self._track_load(task)

    def _track_load(self, task: Task) -> None:
        """Keep count of the open tasks each member holds, to respect their capacity."""
        held_by = self.holding.pop(task.pk, None)
        if held_by is not None:
            self.load[held_by] -= 1
        if task.assignee_id is not None and task.state in OPEN_STATES:
            self.holding[task.pk] = task.assignee_id
            self.load[task.assignee_id] = self.load.get(task.assignee_id, 0) + 1

    def _clerk_of(self, hall: Branch) -> Staff:
        clerks = [s for s in self.staff.values() if s.home_branch_id == hall.pk and s.on_duty and s.has_role(R.CLERK)]
        return self.rng.choice(clerks)

    def _coordinator(self, *, not_pk: int | None = None) -> Staff:
        pool = [self.staff[u] for u in ("coordinator1", "coordinator2") if self.staff[u].pk != not_pk]
        return self.rng.choice(pool)

    def _chief_for(self, task: Task) -> Staff | None:
        """The chief of the tax-source branch that owns the task's team, if it is one."""
        if task.team is not None and task.team.branch.code in CHIEF_OF:
            return self.staff[CHIEF_OF[task.team.branch.code]]
        return None

    def _assignment(self, task: Task, *, name: str, avoid: Staff | None, by_hub: bool = False) -> tuple[Staff, Staff]:
        """Who assigns `task` (or reassigns it), and to whom: a member takes it from the
        queue, or a coordinator or the branch chief hands it to someone."""
        rng = self.rng
        team = task.team
        if team is None or team.kind == Team.Kind.COORDINATION_POST:
            # The coordination post works its own queue.
            coordinator = self._coordinator()
            if name == "reassign":
                return coordinator, self._coordinator(not_pk=task.assignee_id)
            return coordinator, coordinator
        members = self.members.get(team.pk, [])
        if not members:
            raise RuntimeError(f"Team {team.code} has no one on duty to take task {task.pk}.")
        pool = [m for m in members if m != avoid and m.pk != task.assignee_id] or members
        free = [m for m in pool if self.load[m.pk] < m.capacity] or pool
        assignee = rng.choice(free)
        supervisor = self._chief_for(task) or self._coordinator()
        if by_hub:
            return self._coordinator(), assignee
        if name == "reassign":
            return supervisor, assignee
        if rng.random() < 0.65:
            return assignee, assignee  # the member takes it from the team queue
        return supervisor, assignee

    def _actor(self, task: Task, name: str, *, case: Case, opener: Staff) -> Staff:
        assignee = self.staff_by_pk.get(task.assignee_id) if task.assignee_id else None
        if name in {"accept", "request_materials", "receive_materials", "escalate", "submit_for_approval", "complete"}:
            return assignee
        if name == "return":
            return assignee
        if name in {"approve", "reject"}:
            return self._chief_for(task) or self._coordinator(not_pk=task.assignee_id)
        if name in {"approve_extension", "reject_extension"}:
            return self._chief_for(task)
        if name == "request_extension":
            return assignee
        if name == "handle_on_spot":
            return opener if opener.has_role(R.CLERK) else self._clerk_of(self.seat[case.pk])
        if name == "transfer":
            return opener if opener.has_role(R.CLERK) else self._coordinator()
        if name == "give_feedback":
            if case.channel == Channel.HALL_WINDOW:
                return self._clerk_of(self.seat[case.pk])  # 窗口出件: the result is issued at a window
            return assignee or self._coordinator()
        if name == "cancel":
            if task.team is None:
                return opener if opener.has_role(R.CLERK) else self._coordinator()
            return self._chief_for(task) or self._coordinator()
        raise ValueError(name)
