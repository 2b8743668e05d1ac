"""Forms of the middle office: the coordinator's dashboard (the queue's filters are web/filters.py).

They only parse; the core services decide what is allowed.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.catalogue.models import HandlingList
from taxservice.errors import ServiceError
from taxservice.org.models import Branch, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.web.forms import PeopleGroup, PeopleSelect, ServiceErrorsMixin, offer_people
from taxservice.web.labels import FIELD_LABELS, FILTER_LABELS
from taxservice.workflow.cases import transitions
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.routing.models import FILTER_NAMES, Chooser, RoutingRule, Target
from taxservice.workflow.routing.selectors import clean_hub_filters

from .selectors import AGE_BUCKETS, DUE_BUCKETS, HUB_STATES, NO_TEAM

# --- the coordinator's dashboard (the hub) ---------------------------------------------------


class HubFilterForm(forms.Form):
    """The hub queue's filters: their labels and inputs. The values are read by
    `routing.selectors.clean_hub_filters`, the API's parser, one filter at a time, so a bad
    value leaves out that filter only and is named in `problems`."""

    state = forms.ChoiceField(label=_("State"), required=False)
    # Any team code (a task may sit in any team); the facets offer the ones in use.
    team = forms.CharField(label=_("Team"), required=False, max_length=48)
    source = forms.ChoiceField(label=_("Source line"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    age = forms.ChoiceField(label=_("Age"), required=False)
    due = forms.ChoiceField(label=_("Due"), required=False)
    # Sends "true", as the facet links do (a checkbox's default "on" is not a value the parser knows).
    alerts = forms.BooleanField(
        label=_("Alerts only"), required=False, widget=forms.CheckboxInput(attrs={"value": "true"})
    )

    def __init__(self, *args, teams: list[Team], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.problems: list[str] = []
        self.fields["state"].choices = [(state.value, state.label) for state in HUB_STATES]
        self.team_names = {team.code: team.name for team in teams} | {NO_TEAM: str(_("No team"))}
        self.fields["source"].choices = everything + list(Task.Source.choices)
        self.fields["tier"].choices = everything + [
            (tier.value, tier.label) for tier in (Tier.MIDDLE, Tier.BACK, Tier.GRID)
        ]
        self.fields["age"].choices = everything + AGE_BUCKETS
        self.fields["due"].choices = everything + DUE_BUCKETS

    def filters(self) -> dict:
        """The valid filters; the state defaults to queued. Each bad one is left out and
        named in `self.problems`."""
        data: dict = {}
        self.problems = []
        for name, field in self.fields.items():
            raw = self.data.get(name, "") if self.is_bound else ""
            if not raw:
                continue
            try:
                value = clean_hub_filters({name: raw}).get(name)
            except ValueError:
                self.problems.append(
                    str(
                        _("The filter “%(filter)s” cannot be “%(value)s”; it was left out.")
                        % {
                            "filter": field.label,
                            "value": raw,
                        }
                    )
                )
                continue
            if value:
                data[name] = value
        data.setdefault("state", TaskState.QUEUED)
        return data


class IdListField(forms.Field):
    """Several task numbers (checkboxes named alike)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Tick at least one task."), "invalid": _("Unknown task number.")}

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


# The transitions the specs mark as bulk actions, and the dispatch pipeline.
BULK_ACTIONS = (*transitions.BULK_STEPS, "dispatch")


class BulkForm(ServiceErrorsMixin, forms.Form):
    """A bulk action on the ticked tasks of the hub queue."""

    action = forms.ChoiceField(label=_("Action"), choices=[(name, name) for name in BULK_ACTIONS])
    tasks = IdListField(label=_("Tasks"))
    assignee = forms.TypedChoiceField(
        label=_("Assign to"), required=False, coerce=int, empty_value=None, widget=PeopleSelect
    )
    team = forms.ChoiceField(label=_("Send to team"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args, assignees: list[PeopleGroup], teams: list[Team], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refusals: list[str] = []
        # taxservice.web.queries.people_by_team: the handlers of every team, grouped, with their load.
        offer_people(self.fields["assignee"], assignees, blank="—")
        self.fields["team"].choices = [("", "—")] + [
            (team.code, f"{team.name} · {team.get_tier_display()}") for team in teams
        ]

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            # Assign names the holder for everyone: in bulk there is no "myself".
            self.add_error("assignee", _("Choose whom to assign the tasks to."))
        spec = transitions.get(action or "")
        if spec is not None:
            # The spec's required inputs, said once here rather than once per task by the service.
            try:
                transitions.check_required(
                    spec, {"reason": data.get("reason"), "team": data.get("team"), "assignee": data.get("assignee")}
                )
            except ServiceError as error:
                self.add_service_error(error)
        return data

    def add_service_error(self, error: ServiceError) -> None:
        """The service's summary on top; its per-task refusals kept apart, to list and mark rows."""
        self.refusals = list(error.fields.get("tasks", []))
        self.add_error(None, error.detail)
        for name, messages in error.fields.items():
            if name == "tasks":
                continue
            if name in self.fields:
                self.add_error(name, messages)
            else:
                self.add_error(None, [f"{FIELD_LABELS.get(name, name)}: {message}" for message in messages])


class RobotForm(forms.Form):
    paused = forms.TypedChoiceField(choices=[("true", "true"), ("false", "false")], coerce=lambda v: v == "true")
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"required": "required"}),
        error_messages={"required": _("Say why the robot is paused or resumed.")},
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose a file to upload.")},
    )


class DutyForm(forms.Form):
    on_duty = forms.TypedChoiceField(choices=[("true", "true"), ("false", "false")], coerce=lambda v: v == "true")


# --- routing rules ------------------------------------------------------------------------------

ANY = [("", _("Any"))]
ITEMS_OWN = [("", _("The item's own"))]
TRISTATE = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def filter_choices() -> list[tuple[str, str]]:
    return [(name, str(FILTER_LABELS[name])) for name in FILTER_NAMES]


class RuleForm(ServiceErrorsMixin, forms.Form):
    """The fields of `routing.services.rule_save`, and the reason it requires."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    priority = forms.IntegerField(
        label=_("Priority"), min_value=0, max_value=32767, help_text=_("Lower numbers are tried first.")
    )
    active = forms.BooleanField(label=_("Active"), required=False)
    match_item = forms.CharField(label=_("Item code"), required=False, max_length=16)
    match_list = forms.ChoiceField(label=_("List"), required=False, choices=ANY + list(HandlingList.choices))
    match_tier = forms.ChoiceField(label=_("Item tier"), required=False, choices=ANY + list(Tier.choices))
    match_moved_forward = forms.ChoiceField(label=_("Moved-forward items"), required=False, choices=TRISTATE)
    match_source = forms.ChoiceField(label=_("Source line"), required=False, choices=ANY + list(Task.Source.choices))
    match_classification = forms.ChoiceField(
        label=_("Taxpayer classification"), required=False, choices=ANY + list(Taxpayer.Classification.choices)
    )
    match_grade = forms.ChoiceField(
        label=_("Taxpayer grade"), required=False, choices=ANY + list(Taxpayer.Grade.choices)
    )
    match_district = forms.ChoiceField(label=_("District"), required=False)
    target = forms.ChoiceField(label=_("Target"), choices=Target.choices)
    team = forms.CharField(
        label=_("Team code"),
        required=False,
        max_length=48,
        help_text=_("Only for the target “the team the rule names”: the team's code, e.g. a custom team's."),
    )
    team_kind = forms.ChoiceField(label=_("Team kind"), required=False, choices=ITEMS_OWN + list(Team.Kind.choices))
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=ITEMS_OWN + list(Tier.choices))
    chooser = forms.ChoiceField(label=_("Chooser"), choices=Chooser.choices)
    filters = forms.MultipleChoiceField(
        label=_("Filters"), required=False, choices=filter_choices, widget=forms.CheckboxSelectMultiple
    )
    auto_dispatch = forms.BooleanField(
        label=_("The robot dispatches every matched task"),
        required=False,
        help_text=_("Off: the rule says manual; tasks wait in the team's queue for a person."),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "required": "required"}),
    )

    MATCH_FIELDS = (
        "match_item",
        "match_list",
        "match_tier",
        "match_moved_forward",
        "match_source",
        "match_classification",
        "match_grade",
        "match_district",
    )
    GIVES_FIELDS = ("target", "team", "team_kind", "tier", "chooser", "filters", "auto_dispatch")

    def __init__(self, *args, rule: RoutingRule | None, districts: list[Branch], **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            rule_initial(rule)
            if rule is not None
            else {"priority": 100, "active": True, "filters": list(FILTER_NAMES)},
        )
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.fields["match_district"].choices = ANY + [(branch.code, branch.name) for branch in districts]

    def changes(self) -> dict:
        """What `rule_save` should change: the edited fields (every field for a new rule)."""
        data = self.cleaned_data
        names = [name for name in self.fields if name != "reason"]
        if self.rule is not None:
            names = [name for name in names if name in self.changed_data]
        changes = {}
        for name in names:
            value = data[name]
            if name == "match_moved_forward":
                value = {"": None, "true": True, "false": False}[value]
            elif name == "match_item":
                value = value.strip().upper()
            elif name == "team":
                value = value.strip()
            changes[name] = value
        return changes


def rule_initial(rule: RoutingRule) -> dict:
    return {
        "name": rule.name,
        "description": rule.description,
        "priority": rule.priority,
        "active": rule.active,
        "match_item": rule.match_item.code if rule.match_item_id else "",
        "match_list": rule.match_list,
        "match_tier": rule.match_tier,
        "match_moved_forward": "" if rule.match_moved_forward is None else str(rule.match_moved_forward).lower(),
        "match_source": rule.match_source,
        "match_classification": rule.match_classification,
        "match_grade": rule.match_grade,
        "match_district": rule.match_district.code if rule.match_district_id else "",
        "target": rule.target,
        "team": rule.team.code if rule.team_id else "",
        "team_kind": rule.team_kind,
        "tier": rule.tier,
        "chooser": rule.chooser,
        "filters": list(rule.filters),
        "auto_dispatch": rule.auto_dispatch,
    }
