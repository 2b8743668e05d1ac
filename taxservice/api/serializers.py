"""API v1 serializers. Field names here are the API's contract."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taxservice.cases import selectors
from taxservice.cases.models import TRANSITION_CHOICES, Case, Channel, Task, TaskTransition
from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Role, Staff, Team
from taxservice.taxpayers.models import Taxpayer


class TaxpayerSerializer(serializers.ModelSerializer):
    competent_branch = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Taxpayer
        fields = ["credit_code", "name", "competent_branch", "classification", "grade"]


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


class TaskSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    available_transitions = serializers.SerializerMethodField()

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
            "result",
            "created_at",
            "available_transitions",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITION_CHOICES)))
    def get_available_transitions(self, task: Task) -> list[str]:
        staff = self.context.get("staff")
        return selectors.allowed_transitions(staff=staff, task=task) if staff else []


class TaskDetailSerializer(TaskSerializer):
    history = TransitionLogSerializer(source="transitions", many=True, read_only=True)
    note = serializers.CharField(read_only=True)
    feedback_channel = serializers.CharField(read_only=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "note", "feedback_channel", "history"]


class CaseSerializer(serializers.ModelSerializer):
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    hall = serializers.SlugRelatedField(slug_field="code", read_only=True)
    accepted_by = serializers.PrimaryKeyRelatedField(read_only=True)
    tasks = TaskSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "taxpayer",
            "channel",
            "hall",
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
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CaseCreateSerializer(serializers.Serializer):
    taxpayer = serializers.CharField(max_length=64, help_text="The taxpayer's credit code.")
    channel = serializers.ChoiceField(choices=Channel.choices)
    hall = serializers.CharField(max_length=32, help_text="A hall's branch code.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    items = RequestedItemSerializer(many=True, allow_empty=True)


class TransitionRequestSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=TRANSITION_CHOICES)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    result = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="A staff id; the caller by default.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    expected_state = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: the state the caller saw. A different current state answers 409.",
    )


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
