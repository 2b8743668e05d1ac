"""Cases, tasks and the transition log.

A case is one taxpayer contact; it holds one task per item asked for. A task moves
through a django-fsm-2 state machine. Transition methods here are pure: they change
fields on the instance and nothing else. `taxservice.workflow.cases.services` wraps every call
in a transaction with a row lock, a permission check and an audit row.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from taxservice.audit import AppendOnly
from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer


class Channel(models.TextChoices):
    HALL_WINDOW = "hall_window", _("Hall window")
    PHONE_12366 = "phone_12366", _("12366 phone")
    ONLINE_INTERACTION = "online_interaction", _("征纳互动 online")
    ETAX_APP = "etax_app", _("E-tax bureau / app")
    REMOTE_VIDEO = "remote_video", _("Remote video")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline transfer")
    SERVICE_POINT = "service_point", _("Service point")


# The contacts made from afar: they name no hall, and are never cross-hall (异厅通办 is a
# visit to a hall). Each may carry its own reference (a call or ticket number).
REMOTE_CHANNELS = frozenset(
    {
        Channel.PHONE_12366,
        Channel.ONLINE_INTERACTION,
        Channel.ETAX_APP,
        Channel.REMOTE_VIDEO,
        Channel.HOTLINE_12345,
    }
)


class Scenario(models.TextChoices):
    """The five 就近办 scenarios of a case opened at a service point."""

    SELF_SERVICE = "self_service", _("Self-service 自助办")
    GUIDED = "guided", _("Guided 辅导办")
    REMOTE = "remote", _("Remote 远程办")
    COLLECTED = "collected", _("Collected on behalf 代收办")
    DOOR_TO_DOOR = "door_to_door", _("Door-to-door 上门办")


class Case(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    taxpayer = models.ForeignKey(Taxpayer, verbose_name=_("taxpayer"), on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices)
    # Where the contact came in: a hall for a window visit, a service point for a 就近办
    # visit, neither for a remote contact (which carries its own reference instead). The
    # constraints in Meta hold the rule; case_open names what is wrong in words.
    hall = models.ForeignKey(
        Branch,
        verbose_name=_("accepting hall"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accepted_cases",
        help_text=_("Only for a visit to a hall window."),
    )
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        verbose_name=_("service point"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        help_text=_("Only for a case opened at a 就近办 service point."),
    )
    scenario = models.CharField(
        _("就近办 scenario"),
        max_length=16,
        choices=Scenario.choices,
        blank=True,
        help_text=_("Only with a service point."),
    )
    channel_reference = models.CharField(
        _("channel reference"),
        max_length=64,
        blank=True,
        help_text=_("The remote channel's own number: the call, chat or ticket."),
    )
    accepted_by = models.ForeignKey(
        Staff, verbose_name=_("accepted by"), on_delete=models.PROTECT, related_name="accepted_cases"
    )
    cross_hall = models.BooleanField(
        _("cross-hall"), default=False, help_text=_("A visit to a hall other than the competent branch's own.")
    )
    notes = models.TextField(_("consultation notes"), blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # A window visit names its hall; nothing else does.
            models.CheckConstraint(
                condition=Q(channel=Channel.HALL_WINDOW, hall__isnull=False)
                | (~Q(channel=Channel.HALL_WINDOW) & Q(hall__isnull=True)),
                name="case_hall_only_for_window_visits",
            ),
            # A service-point visit names its point; nothing else does.
            models.CheckConstraint(
                condition=Q(channel=Channel.SERVICE_POINT, service_point__isnull=False)
                | (~Q(channel=Channel.SERVICE_POINT) & Q(service_point__isnull=True)),
                name="case_service_point_only_for_point_visits",
            ),
            models.CheckConstraint(
                condition=Q(scenario="") | Q(service_point__isnull=False),
                name="case_scenario_only_at_a_service_point",
            ),
            # 异厅通办 is a fact of a hall visit only.
            models.CheckConstraint(
                condition=Q(cross_hall=False) | Q(channel=Channel.HALL_WINDOW),
                name="case_cross_hall_only_for_window_visits",
            ),
            models.CheckConstraint(
                condition=Q(channel_reference="") | Q(channel__in=sorted(REMOTE_CHANNELS)),
                name="case_reference_only_for_remote_contacts",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.taxpayer.name}"


class CaseTransition(AppendOnly):
    """One append-only row per change of a case's own state: opened, closed with its last task."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transitions")
    transition = models.CharField(_("transition"), max_length=32)
    from_state = models.CharField(_("from state"), max_length=8, choices=Case.State.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=8, choices=Case.State.choices)
    actor = models.ForeignKey(
        Staff,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means the system (automation)."),
    )
    # The actor's name as it was (a rename never rewrites the history). A database default,
    # so set-based inserts (the robot's COPY, the ladder) that name no actor need not list it.
    actor_name = models.CharField(
        _("actor's name"), max_length=50, blank=True, default="", db_default="", editable=False
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    details = models.JSONField(_("details"), default=dict, blank=True)

    NAMED_REFERENCES = (("actor_name", "actor"),)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.from_state} → {self.to_state}"


class TaskState(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_MATERIALS = "awaiting_materials", _("Awaiting materials")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    DONE = "done", _("Done")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = TaskState
OPEN_STATES = [S.RECEIVED, S.QUEUED, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_MATERIALS, S.AWAITING_APPROVAL]
TERMINAL_STATES = [S.CLOSED, S.CANCELLED]


def _is_immediate(task: Task) -> bool:
    return task.item.handling_list == HandlingList.IMMEDIATE


def needs_approval(task: Task) -> bool:
    """The item needs approval; a sub-task's result does not: the parent's approval covers it."""
    return task.item.needs_approval and task.parent_id is None


def _needs_no_approval(task: Task) -> bool:
    return not needs_approval(task)


def _not_in_back_office(task: Task) -> bool:
    return task.tier != Tier.BACK


def _no_extension_pending(task: Task) -> bool:
    return task.extension_requested_days is None


def _extension_pending(task: Task) -> bool:
    return task.extension_requested_days is not None


# An extension is asked for while the work goes on, and decided whatever state the work is in
# by then; neither moves the task.
EXTENSION_REQUEST_STATES = [S.IN_PROGRESS, S.AWAITING_MATERIALS]


class SentBack(models.TextChoices):
    """Why an approver sent a task back to its holder (shown on lists, pages and the API
    until the holder submits again)."""

    NO = "", _("Not sent back")
    REJECTED = "rejected", _("Rejected by the approver")
    RETURNED = "returned", _("Returned for more work")


def current_approval_step(task: Task) -> int:
    """The approval step a task awaiting approval is at (1 for rows from before the steps)."""
    return max(task.approval_step, 1)


def _last_approval_step(task: Task) -> bool:
    return current_approval_step(task) >= task.item.approval_levels


class ClockName(models.TextChoices):
    ACCEPTANCE = "acceptance", _("Acceptance")
    HANDLING = "handling", _("Handling")
    FEEDBACK = "feedback", _("Feedback")


class Task(ConcurrentTransitionMixin, models.Model):
    class Source(models.TextChoices):
        """The business line a task came in from."""

        FRONT_DESK = "front_desk", _("Front desk")
        RISK = "risk", _("Risk")
        DATA_GOVERNANCE = "data_governance", _("Data governance")
        BUSINESS = "business", _("Business")
        GRID = "grid", _("Grid")
        HOTLINE_12345 = "hotline_12345", _("12345 hotline")

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        help_text=_("The front-desk contact; empty for tasks pushed in by other business lines."),
    )
    # No single-column indexes on taxpayer, assignee or state: task_taxpayer_item_idx,
    # task_assignee_idx and the state-first indexes in Meta lead with those columns and
    # serve the same lookups. Each index costs every task write (a task changes state,
    # and so every index entry, at each step of its life).
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name=_("taxpayer"), on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="tasks")
    note = models.TextField(_("note"), blank=True)
    # Joint handling (一问联办): a sub-task another team, branch or department works for
    # this one. The parent cannot finish while a sub-task is open (services.task_transition).
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subtasks",
    )
    source = models.CharField(_("source"), max_length=24, choices=Source.choices, default=Source.FRONT_DESK)
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    assignee = models.ForeignKey(
        Staff,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        db_index=False,
    )
    state = FSMField(_("state"), default=S.RECEIVED, choices=TaskState.choices, protected=True)
    auto_dispatch = models.BooleanField(
        _("auto-dispatch"), default=False, help_text=_("Set by screening: the robot dispatches this task.")
    )
    has_open_alert = models.BooleanField(
        _("open hub alert"),
        default=False,
        editable=False,
        help_text=_("Kept by HubAlert.raise_once / resolve_for, so the hub queue can sort alerts first by an index."),
    )
    # The clocks (taxservice/workflow/cases/clocks.py), derived from the transition log by
    # clocks.refresh after every change: the promise to the taxpayer, and the internal
    # clock that runs now (acceptance, handling or feedback) with its due and at-risk times.
    due_at = models.DateTimeField(_("due at"))
    clock = models.CharField(_("running clock"), max_length=16, choices=ClockName.choices, blank=True, default="")
    clock_due_at = models.DateTimeField(_("running clock due at"), null=True, blank=True)
    clock_at_risk_at = models.DateTimeField(_("running clock at risk from"), null=True, blank=True)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("extension requested (working days)"), null=True, blank=True, editable=False
    )
    extension_granted_days = models.PositiveSmallIntegerField(
        _("extensions granted (working days)"), default=0, editable=False
    )
    # Approval: the step now waiting for a decision (1 .. item.approval_levels; 0 when the
    # task is not awaiting approval), and whether an approver sent it back.
    approval_step = models.PositiveSmallIntegerField(_("approval step"), default=0, editable=False)
    sent_back = models.CharField(
        _("sent back"), max_length=8, choices=SentBack.choices, blank=True, default=SentBack.NO, editable=False
    )
    result = models.TextField(_("result"), blank=True, help_text=_("What the handler found or did."))
    feedback = models.TextField(
        _("feedback to the taxpayer"), blank=True, help_text=_("What was returned to the taxpayer, and how (below).")
    )
    feedback_channel = models.CharField(_("feedback channel"), max_length=24, choices=Channel.choices, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["state", "tier", "team"], name="task_queue_idx"),
            models.Index(fields=["assignee", "state"], name="task_assignee_idx"),
            models.Index(fields=["taxpayer", "item"], name="task_taxpayer_item_idx"),
            models.Index(fields=["state", "auto_dispatch", "created_at"], name="task_backlog_idx"),
            # The hub queue: alerts first, then oldest first (routing.selectors.hub_queue).
            models.Index(fields=["state", "-has_open_alert", "created_at", "id"], name="task_hub_queue_idx"),
            # The escalation ladder's scan: open tasks by due time (promise and running clock).
            models.Index(fields=["due_at"], condition=models.Q(state__in=OPEN_STATES), name="task_open_due_idx"),
            models.Index(
                fields=["clock_due_at"], condition=models.Q(clock_due_at__isnull=False), name="task_clock_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"T{self.pk} {self.item.name}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- transitions: pure; the service layer does locking, permissions and the log ---

    @transition(field=state, source=S.RECEIVED, target=S.CLOSED, conditions=[_is_immediate])
    def handle_on_spot(self, *, result: str) -> None:
        self.result = result

    @transition(field=state, source=S.RECEIVED, target=S.QUEUED)
    def transfer(self, *, tier: str, team: Team | None, auto_dispatch: bool = False) -> None:
        self.tier = tier
        self.team = team
        self.auto_dispatch = auto_dispatch

    @transition(field=state, source=S.QUEUED, target=S.ASSIGNED)
    def assign(self, *, assignee: Staff) -> None:
        self.assignee = assignee

    @transition(field=state, source=S.ASSIGNED, target=S.IN_PROGRESS)
    def accept(self) -> None:
        pass

    @transition(field=state, source=[S.ASSIGNED, S.IN_PROGRESS], target=S.QUEUED)
    def return_to_queue(self) -> None:
        self.assignee = None

    @transition(field=state, source=S.IN_PROGRESS, target=S.AWAITING_MATERIALS)
    def request_materials(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_MATERIALS, target=S.IN_PROGRESS)
    def receive_materials(self) -> None:
        # The clocks stopped while the taxpayer was asked for materials; clocks.refresh
        # adds the working time they waited, from the log.
        pass

    @transition(field=state, source=S.IN_PROGRESS, target=S.QUEUED, conditions=[_not_in_back_office])
    def escalate(self, *, team: Team | None, auto_dispatch: bool = False) -> None:
        self.tier = Tier.BACK
        self.team = team
        self.assignee = None
        # A branch team's robot dispatches it at random unless the rule says manual.
        self.auto_dispatch = auto_dispatch

    @transition(field=state, source=S.IN_PROGRESS, target=S.AWAITING_APPROVAL, conditions=[needs_approval])
    def submit_for_approval(self, *, result: str = "") -> None:
        if result:
            self.result = result
        self.approval_step = 1
        self.sent_back = SentBack.NO

    @transition(field=state, source=S.AWAITING_APPROVAL, target=RETURN_VALUE(S.AWAITING_APPROVAL, S.DONE))
    def approve(self) -> str:
        # Multi-step approval: each step but the last hands the task to the next approver.
        if not _last_approval_step(self):
            self.approval_step = current_approval_step(self) + 1
            return S.AWAITING_APPROVAL
        self.approval_step = 0
        return S.DONE

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.IN_PROGRESS)
    def reject(self) -> None:
        self.approval_step = 0
        self.sent_back = SentBack.REJECTED

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.IN_PROGRESS)
    def send_back(self) -> None:
        self.approval_step = 0
        self.sent_back = SentBack.RETURNED

    @transition(field=state, source=S.IN_PROGRESS, target=S.DONE, conditions=[_needs_no_approval])
    def complete(self, *, result: str = "") -> None:
        if result:
            self.result = result
        self.sent_back = SentBack.NO

    @transition(field=state, source=S.DONE, target=S.CLOSED)
    def give_feedback(self, *, result: str, channel: str) -> None:
        # The feedback is its own record: the handler's result stays as they wrote it.
        self.feedback = result
        self.feedback_channel = channel

    @transition(field=state, source=OPEN_STATES, target=S.CANCELLED)
    def cancel(self) -> None:
        self.extension_requested_days = None
        self.approval_step = 0

    # --- extensions: the due times move by the days granted (clocks.refresh, from the log) ---

    @transition(
        field=state,
        source=EXTENSION_REQUEST_STATES,
        target=RETURN_VALUE(*EXTENSION_REQUEST_STATES),
        conditions=[_no_extension_pending],
    )
    def request_extension(self, *, days: int) -> str:
        self.extension_requested_days = days
        return self.state

    @transition(field=state, source=OPEN_STATES, target=RETURN_VALUE(*OPEN_STATES), conditions=[_extension_pending])
    def approve_extension(self) -> str:
        self.extension_granted_days += self.extension_requested_days or 0
        self.extension_requested_days = None
        return self.state

    @transition(field=state, source=OPEN_STATES, target=RETURN_VALUE(*OPEN_STATES), conditions=[_extension_pending])
    def reject_extension(self) -> str:
        self.extension_requested_days = None
        return self.state

    # --- middle-office additions: moving a task between queues and people ---

    @transition(field=state, source=S.QUEUED, target=S.QUEUED)
    def reroute(self, *, tier: str, team: Team) -> None:
        self.tier = tier
        self.team = team
        # A person placed it: the robot leaves it alone from now on.
        self.auto_dispatch = False

    @transition(field=state, source=[S.ASSIGNED, S.IN_PROGRESS], target=S.ASSIGNED)
    def reassign(self, *, assignee: Staff) -> None:
        self.assignee = assignee


class TaskTransition(AppendOnly):
    """One append-only row per state change. Durations and indicators derive from it."""

    # Indexed by transition_task_at_idx (task, at), which serves every lookup by task.
    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="transitions", db_index=False
    )
    transition = models.CharField(_("transition"), max_length=32)
    from_state = models.CharField(_("from state"), max_length=24, choices=TaskState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=24, choices=TaskState.choices)
    actor = models.ForeignKey(
        Staff,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means the system (automation)."),
        db_index=False,  # transition_actor_idx, which leaves out the system's rows
    )
    # A deputy deciding for an absent branch chief (org.Delegation): the chief, and the
    # names of both as they were, so the history reads "deputy, for chief".
    on_behalf_of = models.ForeignKey(
        Staff,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # The names as they were (a rename never rewrites the history).
    actor_name = models.CharField(
        _("actor's name"), max_length=50, blank=True, default="", db_default="", editable=False
    )
    on_behalf_of_name = models.CharField(
        _("name of whom it was done for"), max_length=50, blank=True, default="", db_default="", editable=False
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    NAMED_REFERENCES = (("actor_name", "actor"), ("on_behalf_of_name", "on_behalf_of"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("task transition")
        verbose_name_plural = _("task transitions")
        indexes = [
            models.Index(fields=["task", "at"], name="transition_task_at_idx"),
            # Lookups by actor ask for a person, never for "the system": the robot's rows
            # (most of the log) stay out of this index and cost no insert into it.
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="transition_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_state} → {self.to_state}"

    @property
    def actor_label(self) -> str:
        if self.actor_id is None:
            return str(_("system"))
        return self.actor_name or self.actor.name


class TaskAssignment(models.Model):
    """Who holds a task. The partial unique constraint allows one active row per task, so
    two dispatchers racing past every other check still cannot both assign it."""

    # Both indexed: the last-handler lookup walks a task's assignments, and "what did this
    # person hold" and the PROTECT check on a staff delete read by staff.
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="assignments")
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task assignment")
        verbose_name_plural = _("task assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(active=True), name="one_active_assignment_per_task"
            )
        ]

    def __str__(self) -> str:
        return f"T{self.task_id} → {self.staff_id}"


class TaskIntake(models.Model):
    """One push of a task from another business line (or a bulk upload row).

    Screening merges duplicates: an intake for a taxpayer and item that already has an
    open task links to that task (`merged=True`) instead of creating a second one.
    """

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="intakes")
    source = models.CharField(_("source"), max_length=24, choices=Task.Source.choices)
    notes = models.TextField(_("notes"), blank=True)
    merged = models.BooleanField(_("merged into an open task"), default=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    batch = models.CharField(_("upload batch"), max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("task intake")
        verbose_name_plural = _("task intakes")

    def __str__(self) -> str:
        return f"{self.source} → T{self.task_id}"


class TaskComment(AppendOnly):
    """An internal note between the people working a task. Append-only: a note is never
    edited or deleted; a correction is another note. `@username` mentions notify."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(Staff, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("note"))
    mentions = models.ManyToManyField(Staff, verbose_name=_("mentioned"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("task note")
        verbose_name_plural = _("task notes")
        indexes = [models.Index(fields=["task", "created_at"], name="comment_task_idx")]

    def __str__(self) -> str:
        return f"T{self.task_id}: {self.body[:40]}"


class Notification(models.Model):
    """A message to a staff member about a transition or a note that mentions them: written
    by a Celery task after the transition commits, by the robot's batch in its own
    transaction (docs/decisions.md §4), or with the note itself."""

    # The unique (recipient, transition) constraint indexes recipients. Nothing reads
    # notifications by transition, and transitions are never deleted (append-only; the
    # demo reset deletes a task's notifications before its log), so that reference has
    # no index of its own. The task reference is indexed: deleting a task cascades by it.
    recipient = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="notifications")
    transition = models.ForeignKey(
        TaskTransition, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    comment = models.ForeignKey(
        TaskComment, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    message = models.CharField(_("message"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # Idempotency: a retried Celery task never notifies twice for one transition.
            models.UniqueConstraint(fields=["recipient", "transition"], name="notification_once_per_transition"),
            models.UniqueConstraint(
                fields=["recipient", "comment"],
                condition=models.Q(comment__isnull=False),
                name="notification_once_per_comment",
            ),
            # About exactly one thing: a transition or a note.
            models.CheckConstraint(
                condition=models.Q(transition__isnull=True) ^ models.Q(comment__isnull=True),
                name="notification_about_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return self.message
