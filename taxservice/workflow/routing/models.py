"""Routing rules as data, dispatch decision records, and the auto-dispatch robot's state.

Part of the shared core: the middle office's screens edit and show these, but the
rules and the pipeline belong to every tier (docs/domain.md §1, §3).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Task


class Chooser(models.TextChoices):
    RANDOM = "random", _("Random (随机派单)")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least-loaded")


class Target(models.TextChoices):
    CITY = "city", _("City-level team (业务提级办)")
    COMPETENT_BRANCH = "competent_branch", _("Competent branch's team")
    TERRITORIAL = "territorial", _("Dispatched staff of the competent branch (属地优先)")
    COORDINATION_POST = "coordination_post", _("Coordination post (manual)")
    # The service group of the taxpayer's own grid (网格兜底); no grid: the hub, flagged.
    TAXPAYER_GRID = "taxpayer_grid", _("The taxpayer's grid service group (网格兜底)")
    # One named team (RoutingRule.team), e.g. a branch's custom team for exclusive items.
    TEAM = "team", _("The team the rule names")


# The business lines tasks come in from are the core's: Task.Source.
Source = Task.Source


# The dispatch filters, in the order the pipeline applies them.
FILTER_NAMES = ["membership", "on_duty", "capacity", "conflict", "rotation"]


def default_filters() -> list[str]:
    return list(FILTER_NAMES)


class RoutingRule(models.Model):
    """Which tier and team a task goes to, and how a person is chosen there.

    Empty match fields match anything. Lower priority numbers win; among equal
    priorities the more specific rule (more match fields set) wins, then the older.
    Empty `tier`/`team_kind` take the item's own.
    """

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    active = models.BooleanField(_("active"), default=True)
    # What the rule matches.
    match_item = models.ForeignKey(Item, verbose_name=_("item"), null=True, blank=True, on_delete=models.PROTECT)
    match_list = models.CharField(_("list"), max_length=16, choices=HandlingList.choices, blank=True)
    match_tier = models.CharField(_("item tier"), max_length=8, choices=Tier.choices, blank=True)
    match_moved_forward = models.BooleanField(_("moved-forward items"), null=True, blank=True)
    match_source = models.CharField(_("source line"), max_length=24, choices=Source.choices, blank=True)
    match_classification = models.CharField(
        _("taxpayer classification"), max_length=24, choices=Taxpayer.Classification.choices, blank=True
    )
    match_grade = models.CharField(_("taxpayer grade"), max_length=1, choices=Taxpayer.Grade.choices, blank=True)
    match_district = models.ForeignKey(
        Branch,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "district"},
        related_name="+",
    )
    # What the rule gives.
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices, blank=True)
    team_kind = models.CharField(_("team kind"), max_length=24, choices=Team.Kind.choices, blank=True)
    target = models.CharField(_("target"), max_length=24, choices=Target.choices)
    # Only for target `team`: the team itself (a custom team for exclusive items).
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="routing_rules"
    )
    chooser = models.CharField(_("chooser"), max_length=16, choices=Chooser.choices, default=Chooser.RANDOM)
    auto_dispatch = models.BooleanField(
        _("robot dispatches every task"),
        default=False,
        help_text=_(
            "On: the robot dispatches every matched task (the shipped back-office rules are on: random dispatch "
            "inside the branch's team). Off: the rule says manual, the task waits in its team's queue for a person; "
            "high-frequency items are dispatched by the robot all the same."
        ),
    )
    filters = models.JSONField(_("filters"), default=default_filters)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    MATCH_FIELDS = (
        "match_item_id",
        "match_list",
        "match_tier",
        "match_moved_forward",
        "match_source",
        "match_classification",
        "match_grade",
        "match_district_id",
    )

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return f"{self.priority} {self.name}"

    @property
    def specificity(self) -> int:
        return sum(1 for name in self.MATCH_FIELDS if getattr(self, name) not in (None, ""))

    def matches(self, *, item: Item, source: str, taxpayer: Taxpayer, district_id: int | None) -> bool:
        checks = [
            (self.match_item_id, item.pk),
            (self.match_list, item.handling_list),
            (self.match_tier, item.tier),
            (self.match_moved_forward, item.moved_forward),
            (self.match_source, source),
            (self.match_classification, taxpayer.classification),
            (self.match_grade, taxpayer.grade),
            (self.match_district_id, district_id),
        ]
        return all(wanted in (None, "") or wanted == actual for wanted, actual in checks)

    def snapshot(self) -> dict:
        """Every editable field, for the change log and for replaying old decisions."""
        return {
            "name": self.name,
            "description": self.description,
            "priority": self.priority,
            "active": self.active,
            **{name: getattr(self, name) for name in self.MATCH_FIELDS},
            "tier": self.tier,
            "team_kind": self.team_kind,
            "target": self.target,
            "team_id": self.team_id,
            "chooser": self.chooser,
            "auto_dispatch": self.auto_dispatch,
            "filters": list(self.filters),
        }


class RoutingRuleChange(models.Model):
    """An append-only record of every rule change: who, when, why, and before/after."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.PROTECT, related_name="changes")
    version = models.PositiveIntegerField(_("version"))
    changed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"))

    class Meta:
        ordering = ["rule", "version"]
        verbose_name = _("routing rule change")
        verbose_name_plural = _("routing rule changes")
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="rule_change_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class StaffConflict(models.Model):
    """A declared conflict of interest (回避): the staff member must not handle the taxpayer.

    Declared by a branch chief (for staff of their branch scope) or an administrator, with
    a reason (`routing.services.conflict_declare`). Never deleted: a withdrawal ends it
    (`withdrawn_at`, `withdrawn_by`), and only the rows not withdrawn feed the dispatch filter.
    """

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="conflicts")
    taxpayer = models.ForeignKey(Taxpayer, on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(_("reason"), max_length=200)
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    declared_by = models.ForeignKey(
        Staff, verbose_name=_("declared by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        Staff, verbose_name=_("withdrawn by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.CharField(_("reason for the withdrawal"), max_length=200, blank=True)

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "taxpayer"], condition=models.Q(withdrawn_at__isnull=True), name="conflict_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} ↔ {self.taxpayer}"


class StaffLeave(models.Model):
    """A staff member's leave, inclusive of both days: the dispatch filter `on_duty` skips them.

    Declared like a conflict (`routing.services.leave_declare`), never deleted: withdrawn.
    """

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="leaves")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    declared_by = models.ForeignKey(
        Staff, verbose_name=_("declared by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        Staff, verbose_name=_("withdrawn by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.CharField(_("reason for the withdrawal"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("leave")
        verbose_name_plural = _("leaves")
        indexes = [models.Index(fields=["starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="leave_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.starts_on}–{self.ends_on}"


class DispatchDecision(models.Model):
    """One run of the dispatch pipeline for one task, with everything needed to replay it."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        NO_CANDIDATE = "no_candidate", _("No candidate left")
        TO_COORDINATION_POST = "to_coordination_post", _("Sent to the coordination post")

    # Every reference is a foreign key: the decision is what makes an assignment
    # accountable, so it must not point at nobody. Reads go by task (indexed), or by team
    # through decision_team_idx, which leads with the team and serves its foreign key too.
    # The actor is indexed only where there is one (decision_actor_idx): the robot's rows,
    # most of the table, have none. The rule and the chosen person have no index: nothing
    # reads decisions by them, and only a delete of a rule or a staff member would (a rare
    # administrator's act: rules are deactivated, and anyone ever chosen also holds
    # assignments, which PROTECT them). That delete pays a scan of this table; an index
    # would cost every robot row an insert.
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="dispatch_decisions")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the robot."),
        db_index=False,
    )
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    candidates = models.JSONField(_("candidates"), default=list, help_text=_("Staff ids of the team, in id order."))
    removed = models.JSONField(
        _("removed"), default=list, help_text=_("[{staff, filter, code, …values}]: see routing.dispatch.REASON_*")
    )
    eligible = models.JSONField(_("eligible"), default=list)
    loads = models.JSONField(_("open tasks per eligible staff id"), default=dict)
    chooser = models.CharField(_("chooser"), max_length=16, choices=Chooser.choices)
    chooser_state = models.JSONField(_("chooser state"), default=dict, help_text=_("e.g. the round-robin pointer."))
    seed = models.BigIntegerField(_("random seed"), null=True, blank=True)
    chosen = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("dispatch decision")
        verbose_name_plural = _("dispatch decisions")
        indexes = [
            models.Index(fields=["team", "outcome", "at"], name="decision_team_idx"),
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="decision_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"T{self.task_id} → {self.chosen_id or self.outcome}"


class HubAlert(models.Model):
    """Something the coordination post must look at: a task no rule or no person covers."""

    class Kind(models.TextChoices):
        NO_RULE = "no_rule", _("No routing rule covers the task")
        NO_CANDIDATE = "no_candidate", _("No eligible staff")
        TERRITORIAL_FALLBACK = "territorial_fallback", _("No dispatched staff of the competent branch eligible")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="hub_alerts")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hub alert")
        verbose_name_plural = _("hub alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind"], condition=models.Q(resolved_at__isnull=True), name="one_open_alert_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.message

    @classmethod
    def raise_once(cls, *, task: Task, kind: str, message: str, now) -> None:
        """Open an alert of this kind for the task unless one is already open."""
        if not cls.objects.filter(task=task, kind=kind, resolved_at__isnull=True).exists():
            cls.objects.create(task=task, kind=kind, message=message[:300], created_at=now)
        if not task.has_open_alert:
            Task.objects.filter(pk=task.pk).update(has_open_alert=True)
            task.has_open_alert = True

    @classmethod
    def resolve_for(cls, *, task_ids: list[int], now) -> None:
        """Someone holds these tasks now, or they are finished: the hub need not look any more."""
        cls.objects.filter(task_id__in=task_ids, resolved_at__isnull=True).update(resolved_at=now)
        Task.objects.filter(pk__in=task_ids, has_open_alert=True).update(has_open_alert=False)


class RobotSettings(models.Model):
    """A single row: whether the auto-dispatch robot is paused, by whom and why."""

    paused = models.BooleanField(_("paused"), default=False)
    changed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("robot settings")
        verbose_name_plural = _("robot settings")

    def __str__(self) -> str:
        return "paused" if self.paused else "running"

    # The one row, made by migration 0007_robot_settings_row.
    SINGLETON = 1

    @classmethod
    def load(cls) -> RobotSettings:
        """The settings, read only: pages and the robot read them on every request, so
        reading never writes. If the row is missing (a flushed test database), the
        defaults, unsaved: the robot runs."""
        return cls.objects.filter(pk=cls.SINGLETON).first() or cls(pk=cls.SINGLETON)

    @classmethod
    def load_for_update(cls) -> RobotSettings:
        """The row, locked for a change (and made if missing). Call inside `transaction.atomic`."""
        return cls.objects.select_for_update(no_key=True).get_or_create(pk=cls.SINGLETON)[0]


class RobotRun(models.Model):
    class Trigger(models.TextChoices):
        TRANSFER = "transfer", _("A task was transferred")
        SWEEP = "sweep", _("Scheduled sweep")
        CAPACITY = "capacity", _("Capacity freed up")
        MANUAL = "manual", _("Started by hand")

    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    dispatched = models.PositiveIntegerField(_("dispatched"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    skipped_reasons = models.JSONField(_("skipped, by reason"), default=dict)
    paused = models.BooleanField(_("robot was paused"), default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("robot run")
        verbose_name_plural = _("robot runs")

    def __str__(self) -> str:
        return f"{self.trigger} {self.started_at:%Y-%m-%d %H:%M} +{self.dispatched}"


class UploadBatch(models.Model):
    """A coordinator's bulk upload of tasks (CSV or XLSX): all rows or none."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Rejected: nothing imported")

    uploaded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file name"), max_length=200)
    rows = models.JSONField(_("rows"), default=list, help_text=_("The parsed rows, kept until imported."))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("tasks created"), default=0)
    merged_count = models.PositiveIntegerField(_("merged into open tasks"), default=0)
    errors = models.JSONField(_("errors"), default=list, help_text=_("[{row, field, message}]"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Runs of the check and import started; an interrupted run is restarted from a clean
    # state until MAX_ATTEMPTS, then the batch fails (routing/uploads.py).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The last committed change of state or progress: the stuck-upload sweep's clock.
    progress_at = models.DateTimeField(_("last progress"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("upload batch")
        verbose_name_plural = _("upload batches")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state in {self.State.DONE, self.State.FAILED}:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
