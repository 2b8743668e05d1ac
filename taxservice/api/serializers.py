"""API v1 serializers. Field names here are the API's contract."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Role, Staff, Team, Tier
from taxservice.taxpayers.grid_selectors import grade_of
from taxservice.taxpayers.models import Taxpayer
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow.cases import clocks, selectors, transitions
from taxservice.workflow.cases.models import Case, Channel, Scenario, Task, TaskTransition
from taxservice.workflow.routing.models import FILTER_NAMES, Chooser, Target
from taxservice.workflow.routing.services import INTAKE_SOURCES

# The longest free text the API accepts (notes, reasons, results, outcomes), in characters.
# The model fields are TextFields; the API and the services bound them (docs/api-robustness.md).
TEXT_MAX_LENGTH = 4000
# The largest id a request may name: 18 digits, as in the paths (taxservice/api/routers.py).
# A larger number would not fit the database's bigint (an OverflowError, not a 400).
MAX_ID = 10**18 - 1


class TaxpayerSerializer(serializers.ModelSerializer):
    competent_branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grid = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="The grid's code; null: none yet."
    )
    grid_grade = serializers.SerializerMethodField(
        help_text="The grade the grid works by: the service grade (A–D) once classified, else the credit grade."
    )

    class Meta:
        model = Taxpayer
        fields = ["credit_code", "name", "competent_branch", "classification", "grade", "grid", "grid_grade"]
        fields += ["kind", "industry", "scale", "risk_level", "category", "service_grade"]  # 分类分级, read-only
        read_only_fields = ["kind", "industry", "scale", "risk_level", "category", "service_grade"]

    def get_grid_grade(self, taxpayer: Taxpayer) -> str:
        return grade_of(taxpayer)


class TaxpayerCreateSerializer(serializers.Serializer):
    """Shape only: the service validates the code, the branch and uniqueness."""

    credit_code = serializers.CharField(max_length=64, trim_whitespace=False)
    name = serializers.CharField(max_length=200)
    competent_branch = serializers.CharField(max_length=32, help_text="A tax-source branch code.")
    classification = serializers.ChoiceField(choices=Taxpayer.Classification.choices, default="small_scale")
    grade = serializers.ChoiceField(choices=Taxpayer.Grade.choices, default="B")


class ItemSerializer(serializers.ModelSerializer):
    list = serializers.ChoiceField(source="handling_list", choices=HandlingList.choices, read_only=True)

    class Meta:
        model = Item
        fields = [
            "code",
            "name",
            "list",
            "tier",
            "team_kind",
            "steps",
            "time_limit_days",
            "time_limit_hours",
            "transfer_limit_days",
            "acceptance_limit_days",
            "handling_limit_days",
            "feedback_limit_days",
            "extension_cap_days",
            "moved_forward",
            "high_frequency",
            "needs_approval",
        ]


class TransitionLogSerializer(serializers.ModelSerializer):
    actor = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    actor_name = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = TaskTransition
        fields = ["transition", "from_state", "to_state", "actor", "actor_name", "at", "reason", "details"]


class DispatchDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text="null: the robot")
    rule = serializers.CharField(source="rule.name", allow_null=True, default=None)
    rule_version = serializers.IntegerField(allow_null=True)
    team = serializers.CharField(source="team.code", allow_null=True, default=None)
    candidates = serializers.ListField(child=serializers.IntegerField())
    removed = serializers.ListField(child=serializers.DictField())
    eligible = serializers.ListField(child=serializers.IntegerField())
    loads = serializers.DictField(child=serializers.IntegerField())
    chooser = serializers.CharField()
    chooser_state = serializers.DictField()
    seed = serializers.IntegerField(allow_null=True)
    chosen = serializers.IntegerField(source="chosen_id", allow_null=True)
    outcome = serializers.CharField()


STATUS_HELP = "ok, at_risk, overdue, paused (running) or stopped."


class DeadlineSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="The promise: " + STATUS_HELP)
    due_at = serializers.DateTimeField()
    time_left_seconds = serializers.IntegerField(
        source="left_seconds", help_text="Working time left (negative once overdue)."
    )
    clock = serializers.CharField(help_text="promise, or the internal clock that runs now.")
    clock_status = serializers.CharField(help_text="The running internal clock: " + STATUS_HELP)
    clock_due_at = serializers.DateTimeField(allow_null=True)
    clock_time_left_seconds = serializers.IntegerField(source="clock_left_seconds")


class ClockSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=["promise", "acceptance", "handling", "feedback"])
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField(help_text="ok, at_risk, overdue, paused; met or late once stopped.")
    time_left_seconds = serializers.IntegerField(help_text="Working time left (negative once overdue).")


class TaskSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="null for a hub intake")
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    available_transitions = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "item",
            "item_name",
            "taxpayer",
            "source",
            "state",
            "tier",
            "team",
            "assignee",
            "due_at",
            "clock",
            "clock_due_at",
            "deadline",
            "extension_requested_days",
            "extension_granted_days",
            "parent",
            "approval_step",
            "sent_back",
            "result",
            "created_at",
            "available_transitions",
        ]
        extra_kwargs = {
            "due_at": {"help_text": "The promise to the taxpayer (办理时限)."},
            "clock": {"help_text": "The internal clock that runs now; empty when none does."},
            "clock_due_at": {"help_text": "When the running internal clock is due."},
            "parent": {"help_text": "For a sub-task (joint handling): the task it works for."},
            "approval_step": {"help_text": "Awaiting approval: the step now waiting (1 .. the item's steps)."},
            "sent_back": {"help_text": "Why an approver sent it back (`rejected`, `returned`); empty otherwise."},
        }

    @extend_schema_field(DeadlineSerializer)
    def get_deadline(self, task: Task) -> dict:
        """The countdowns now, in working seconds (the task page's and the lists')."""
        cal = self.context.get("calendar")
        if cal is None:  # one read of the calendar for a whole page of tasks
            cal = self.context["calendar"] = WorkCalendar.load()
        seen = clocks.glance(task, cal, timezone.now())
        return DeadlineSerializer(seen).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=transitions.CHOICES)))
    def get_available_transitions(self, task: Task) -> list[str]:
        staff = self.context.get("staff")
        return selectors.allowed_transitions(staff=staff, task=task) if staff else []


class TaskDetailSerializer(TaskSerializer):
    clocks = serializers.SerializerMethodField()

    history = TransitionLogSerializer(source="transitions", many=True, read_only=True)
    note = serializers.CharField(read_only=True)
    feedback = serializers.CharField(read_only=True, help_text="What was returned to the taxpayer.")
    feedback_channel = serializers.CharField(read_only=True)
    dispatch = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "note", "feedback", "feedback_channel", "clocks", "history", "dispatch"]

    @extend_schema_field(ClockSerializer(many=True))
    def get_clocks(self, task: Task) -> list[dict]:
        """The promise and each internal clock that has started, derived from the history."""
        cal = WorkCalendar.load()
        now = timezone.now()
        derived = clocks.for_task(task, cal)
        rows = [derived.promise, *derived.internal()]
        return [
            {
                "name": clock.name,
                "started_at": clock.started_at,
                "due_at": clock.due_at,
                "stopped_at": clock.stopped_at,
                "status": clock.status(cal, now),
                "time_left_seconds": clock.remaining_seconds(cal, now),
            }
            for clock in rows
        ]

    @extend_schema_field(DispatchDecisionSerializer(many=True))
    def get_dispatch(self, task: Task) -> list[dict]:
        """Every dispatch decision for the task, newest first."""
        decisions = task.dispatch_decisions.select_related("rule", "team").order_by("-at", "-id")
        return DispatchDecisionSerializer(decisions, many=True).data


class CaseSerializer(serializers.ModelSerializer):
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    hall = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The hall's branch code; null unless a window visit."
    )
    service_point = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The 就近办 service point's code; null unless a service-point visit.",
    )
    accepted_by = serializers.PrimaryKeyRelatedField(read_only=True)
    tasks = TaskSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "taxpayer",
            "channel",
            "hall",
            "service_point",
            "scenario",
            "channel_reference",
            "cross_hall",
            "state",
            "notes",
            "accepted_by",
            "created_at",
            "closed_at",
            "tasks",
        ]


class RequestedItemSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=16, help_text="A catalogue item code.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)


class CaseCreateSerializer(serializers.Serializer):
    taxpayer = serializers.CharField(max_length=64, help_text="The taxpayer's credit code.")
    channel = serializers.ChoiceField(choices=Channel.choices)
    hall = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="A hall's branch code: required for `hall_window`, refused for every other channel "
        "(`hall_required`, `hall_not_for_remote`, `hall_not_for_service_point`).",
    )
    service_point = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="An active service point's code: required for `service_point` (`service_point_required`), "
        "refused otherwise (`service_point_not_for_channel`).",
    )
    scenario = serializers.ChoiceField(
        choices=Scenario.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="The 就近办 scenario: required with a service point (`scenario_required`), refused otherwise.",
    )
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="A remote channel's own number (12366 call, 征纳互动 chat, 12345 ticket…); "
        "refused for visits (`reference_not_for_visit`).",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)
    items = RequestedItemSerializer(many=True, allow_empty=True, max_length=100)


class TransitionNameSerializer(serializers.Serializer):
    """The first look at a transition request: which transition (400 for an unknown name)."""

    transition = serializers.ChoiceField(choices=transitions.CHOICES)


class TransitionRequestBase(serializers.Serializer):
    """A transition request; one subclass per transition, built from its spec."""

    spec: transitions.Transition

    expected_state = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=32,
        help_text="Optional: the state the caller saw. A different current state answers 409.",
    )

    def to_internal_value(self, data):
        # The spec's required inputs, checked where the service checks them: a missing key
        # and a blank value get the same answer (InvalidInput `<input>_required`).
        if hasattr(data, "get"):
            transitions.check_required(self.spec, {name: data.get(name) for name in self.spec.inputs})
        return super().to_internal_value(data)


def _input_field(name: str, spec_input: transitions.Input) -> serializers.Field:
    kind = transitions.INPUT_KINDS[name]
    common = {"required": spec_input.required, "help_text": kind.help or None}
    if kind.kind == "staff":
        return serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            **common,
            **({} if spec_input.required else {"allow_null": True, "default": None}),
        )
    if kind.kind == "days":
        return serializers.IntegerField(
            min_value=1,
            max_value=365,
            **common,
            **({} if spec_input.required else {"allow_null": True, "default": None}),
        )
    optional = {} if spec_input.required else {"default": ""}
    if kind.kind == "channel":
        return serializers.ChoiceField(choices=Channel.choices, allow_blank=True, **common, **optional)
    if kind.kind == "team":
        return serializers.CharField(max_length=48, allow_blank=True, **common, **optional)
    return serializers.CharField(allow_blank=True, max_length=4000, **common, **optional)


def _request_serializer(spec: transitions.Transition) -> type[TransitionRequestBase]:
    fields: dict = {
        "transition": serializers.ChoiceField(choices=[(spec.name, spec.name)], help_text=str(spec.label)),
        **{name: _input_field(name, spec_input) for name, spec_input in spec.inputs.items()},
    }
    class_name = "".join(part.title() for part in spec.name.split("_")) + "TransitionSerializer"
    return type(class_name, (TransitionRequestBase,), {"spec": spec, **fields, "__doc__": f"The `{spec.name}` step."})


# One request shape per transition, derived from its spec: the parser and the schema entry.
TRANSITION_REQUESTS: dict[str, type[TransitionRequestBase]] = {
    name: _request_serializer(spec) for name, spec in transitions.TRANSITIONS.items()
}


class TeamSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Team
        fields = ["code", "name", "kind", "tier", "branch"]


class MeSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    home_branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    teams = TeamSerializer(many=True, read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Staff
        fields = ["id", "username", "name", "home_branch", "teams", "roles", "on_duty", "capacity"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, staff: Staff) -> list[str]:
        return sorted(staff.roles)


class TaskIntakeSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=INTAKE_SOURCES, help_text="The line the task comes from.")
    taxpayer = serializers.CharField(max_length=64, help_text="The taxpayer's credit code.")
    item = serializers.CharField(max_length=16, help_text="A catalogue item code.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)


class StaffSerializer(serializers.ModelSerializer):
    home_branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    teams = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    open_tasks = serializers.IntegerField(read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "name", "home_branch", "teams", "on_duty", "open_tasks", "capacity"]


class RoutingRuleSerializer(serializers.Serializer):
    """Read shape of a rule; writes go through `rule_save` with the same field names."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.IntegerField()
    active = serializers.BooleanField()
    match_item = serializers.CharField(source="match_item.code", allow_null=True, default=None)
    match_list = serializers.CharField(allow_blank=True)
    match_tier = serializers.CharField(allow_blank=True)
    match_moved_forward = serializers.BooleanField(allow_null=True)
    match_source = serializers.CharField(allow_blank=True)
    match_classification = serializers.CharField(allow_blank=True)
    match_grade = serializers.CharField(allow_blank=True)
    match_district = serializers.CharField(source="match_district.code", allow_null=True, default=None)
    tier = serializers.CharField(allow_blank=True)
    team_kind = serializers.CharField(allow_blank=True)
    target = serializers.CharField()
    team = serializers.CharField(
        source="team.code", allow_null=True, default=None, help_text="Target `team` only: the team's code."
    )
    chooser = serializers.CharField()
    auto_dispatch = serializers.BooleanField()
    filters = serializers.ListField(child=serializers.CharField())
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    updated_by = serializers.IntegerField(source="updated_by_id", read_only=True, allow_null=True)


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF's CharField turns a number into text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON whole number only (DRF's IntegerField takes "3" and true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only (DRF's BooleanField takes "yes", 1, "on"…)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _rule_choice(choices, *, blank: bool = True) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices, required=False, allow_blank=blank, allow_null=blank)


class RoutingRuleChangesSerializer(serializers.Serializer):
    """The fields to change, each of its JSON type; absent fields keep their value.

    Types and lengths are checked here (a list where a code belongs is a 400, not a 500);
    `routing.services.rule_save` checks the rest (codes that exist, a new rule's name and target).
    """

    name = StrictCharField(required=False, max_length=100)
    description = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=TEXT_MAX_LENGTH)
    priority = StrictIntegerField(required=False, min_value=0, max_value=32767)
    active = StrictBooleanField(required=False)
    match_item = StrictCharField(
        required=False, allow_blank=True, allow_null=True, max_length=16, help_text="An item code; null: any."
    )
    match_list = _rule_choice(HandlingList.choices)
    match_tier = _rule_choice(Tier.choices)
    match_moved_forward = StrictBooleanField(required=False, allow_null=True)
    match_source = _rule_choice(Task.Source.choices)
    match_classification = _rule_choice(Taxpayer.Classification.choices)
    match_grade = _rule_choice(Taxpayer.Grade.choices)
    match_district = StrictCharField(
        required=False, allow_blank=True, allow_null=True, max_length=32, help_text="A district's code; null: any."
    )
    tier = _rule_choice(Tier.choices)
    team_kind = _rule_choice(Team.Kind.choices)
    target = _rule_choice(Target.choices, blank=False)
    team = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=48,
        help_text="Target `team` only: the code of the team the rule sends tasks to (e.g. a custom team).",
    )
    chooser = _rule_choice(Chooser.choices, blank=False)
    auto_dispatch = StrictBooleanField(
        required=False,
        help_text="true: the robot dispatches every matched task (the back office's default, at random); "
        "false: the rule says manual, tasks wait in the team's queue (high-frequency items excepted).",
    )
    filters = serializers.ListField(
        child=serializers.ChoiceField(choices=FILTER_NAMES), required=False, max_length=len(FILTER_NAMES)
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [gettext("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class RoutingRuleWriteSerializer(serializers.Serializer):
    """Any subset of the rule's fields, and the reason for the change (required)."""

    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    changes = RoutingRuleChangesSerializer(help_text="field -> new value; item and district by code")


class UploadBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    state = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    percent = serializers.IntegerField()
    created_count = serializers.IntegerField()
    merged_count = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class UploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX with columns source, taxpayer, item, notes")


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class HubFacetsSerializer(serializers.Serializer):
    state = FacetValueSerializer(many=True)
    team = FacetValueSerializer(many=True)
    source = FacetValueSerializer(many=True)
    age = FacetValueSerializer(many=True)
    due = FacetValueSerializer(many=True)
    alerts = FacetValueSerializer(many=True)


class HubQueuePageSerializer(serializers.Serializer):
    """A page of the hub's list with its facet counts (for the schema)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TaskSerializer(many=True)
    facets = HubFacetsSerializer(required=False)


class TaskNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.IntegerField(source="author_id")
    author_name = serializers.CharField(source="author.name")
    body = serializers.CharField()
    mentions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_mentions(self, note) -> list[int]:  # a TaskComment
        return [person.pk for person in note.mentions.all()]


class TaskNoteRequestSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="The note (at most 4,000 characters; more is a 400); `@username` mentions tell those people.",
    )
