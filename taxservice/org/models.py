"""Organisation: bureaus, branches, halls, teams and staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    FRONT = "front", _("Front desk")
    MIDDLE = "middle", _("Middle office")
    BACK = "back", _("Back office")
    GRID = "grid", _("Grid")


class Branch(models.Model):
    """Any unit of the bureau: the city bureau, a district bureau, a branch, a hall."""

    class Kind(models.TextChoices):
        CITY = "city", _("City bureau")
        DISTRICT = "district", _("District bureau")
        SERVICE = "service", _("Tax-service branch")
        HALL = "hall", _("Service hall")
        SOURCE = "source", _("Tax-source management branch")
        DEPARTMENT = "department", _("Other department")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    home_hall = models.ForeignKey(
        "self",
        verbose_name=_("home hall"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="served_branches",
        limit_choices_to={"kind": "hall"},
        help_text=_("For a tax-source branch: the hall that serves its territory. Other halls are cross-hall."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team that owns a queue of tasks."""

    class Kind(models.TextChoices):
        # Back office (each tax-source branch has the first four).
        COORDINATION = "coordination", _("Coordination team")
        BASIC = "basic", _("Basic team")
        RISK = "risk", _("Risk team")
        SERVICE = "service", _("Service team")
        CUSTOM = "custom", _("Custom team")
        # City teams.
        ONLINE_CONSULTATION = "online_consultation", _("Online consultation and guidance")
        ONLINE_PROCESSING = "online_processing", _("Online processing")
        EXPERT = "expert", _("Expert team")
        PUBLICITY = "publicity", _("Publicity products")
        ANCHOR = "anchor", _("Anchors")
        QUALITY = "quality", _("Quality inspection")
        # Middle office.
        COORDINATION_POST = "coordination_post", _("Task-coordination post")
        DISPATCHED = "dispatched", _("Dispatched staff")
        # Front desk.
        HALL = "hall", _("Hall window team")
        # Grid.
        GRID = "grid", _("Grid service group")
        # A city department's desk that takes sub-tasks of joint handling (一问联办).
        DEPARTMENT = "department", _("Department desk")

    code = models.CharField(_("code"), max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="teams")
    home_branch = models.ForeignKey(
        Branch,
        verbose_name=_("home branch of dispatched staff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispatched_groups",
        help_text=_("Only for groups of dispatched staff: the tax-source branch they come from."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        indexes = [models.Index(fields=["kind", "branch"])]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CLERK = "clerk", _("Front-desk clerk")
    COORDINATOR = "coordinator", _("Middle-office coordinator")
    TEAM_MEMBER = "team_member", _("Team member")
    EXPERT = "expert", _("Expert")
    # Leads one back-office team: the first step of a two-step approval (catalogue
    # Item.approval_levels), for the tasks of the teams they belong to.
    TEAM_LEAD = "team_lead", _("Team lead")
    BRANCH_CHIEF = "branch_chief", _("Branch chief")
    QUALITY_INSPECTOR = "quality_inspector", _("Quality inspector")
    ADMIN = "admin", _("Administrator")
    INTEGRATOR = "integrator", _("API integrator")


class StaffRole(models.Model):
    staff = models.ForeignKey("Staff", on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [models.UniqueConstraint(fields=["staff", "role"], name="staff_role_unique")]

    def __str__(self) -> str:
        return self.get_role_display()


class Staff(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("name"), max_length=50)
    home_branch = models.ForeignKey(
        Branch, verbose_name=_("home branch"), on_delete=models.PROTECT, related_name="staff"
    )
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True, related_name="members")
    on_duty = models.BooleanField(_("on duty"), default=True)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=20, help_text=_("Maximum open tasks."))
    open_tasks = models.PositiveIntegerField(
        _("open tasks"),
        default=0,
        editable=False,
        help_text=_(
            "Tasks assigned, in progress or awaiting materials or approval: kept by the services "
            "(workflow.cases.assignments.staff_adjust_open_tasks), checked by staff_recount_open_tasks."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.name

    @property
    def roles(self) -> frozenset[str]:
        """The staff member's role codes, cached on the instance."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            rows = self.role_rows.all()  # uses prefetch_related("role_rows") when present
            cached = frozenset(row.role for row in rows)
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_everything(self) -> bool:
        """Coordinators, administrators, quality inspectors and city-bureau staff see all tasks."""
        return self.has_role(Role.COORDINATOR, Role.ADMIN, Role.QUALITY_INSPECTOR) or (
            self.home_branch.kind == Branch.Kind.CITY
        )


class Delegation(models.Model):
    """A branch chief's decisions handed to a named deputy while the chief is away (代理).

    Time-bounded: the deputy may decide what the chief may decide (approvals, extension
    requests) on the chief's branch's work from `starts_at` until `ends_at`, unless revoked
    before. Every step the deputy takes records both names (the log's actor and
    `on_behalf_of`). Rows are never deleted: revoking stamps who revoked it, when and why.
    """

    chief = models.ForeignKey(
        Staff, verbose_name=_("branch chief"), on_delete=models.PROTECT, related_name="delegations_given"
    )
    deputy = models.ForeignKey(Staff, verbose_name=_("deputy"), on_delete=models.PROTECT, related_name="delegations")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(Staff, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        Staff, verbose_name=_("revoked by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        indexes = [models.Index(fields=["deputy", "ends_at"], name="delegation_deputy_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(condition=~models.Q(chief=models.F("deputy")), name="delegation_not_to_oneself"),
        ]

    def __str__(self) -> str:
        return f"{self.chief} → {self.deputy}"

    def active_at(self, moment) -> bool:
        return self.revoked_at is None and self.starts_at <= moment < self.ends_at
