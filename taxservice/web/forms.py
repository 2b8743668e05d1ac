"""The transition form: parses one step on a task. The service decides what is allowed."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.errors import ServiceError
from taxservice.org.models import Team
from taxservice.web.labels import FIELD_LABELS, service_message
from taxservice.workflow.cases import transitions
from taxservice.workflow.cases.models import Channel, Task

INPUTS = tuple(transitions.INPUT_KINDS)


class ServiceErrorsMixin:
    """Put a service's refusal on a form: field messages on their inputs, the rest on top."""

    def add_service_error(self, error: ServiceError) -> None:
        self.add_error(None, service_message(error.detail))
        for name, messages in error.fields.items():
            messages = [service_message(message) for message in messages]
            if name in self.fields:
                self.add_error(name, messages)
            else:
                label = FIELD_LABELS.get(name, name)
                self.add_error(None, [f"{label}: {message}" for message in messages])


@dataclass(frozen=True)
class Person:
    """One person someone may hand a task to, as a list shows them."""

    pk: int
    label: str  # "name · team (open/capacity)", off duty said in words
    on_duty: bool


@dataclass(frozen=True)
class PeopleGroup:
    team: str
    people: list[Person]


@dataclass(frozen=True)
class AssigneeChoices:
    """Whom a supervisor may name (taxservice.web.queries.assignee_choices)."""

    groups: list[PeopleGroup]
    myself: bool  # the supervisor may hold the task themselves


class PeopleSelect(forms.Select):
    """People in option groups by team; those in `disabled` (off duty) are shown, not choosable.

    `data-people-filter` makes static/js/people-filter.js put a text filter above the list;
    without JavaScript it is a plain select."""

    def __init__(self, attrs=None, choices=()) -> None:
        super().__init__(attrs, choices)
        self.disabled: frozenset[int] = frozenset()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if value in self.disabled:
            option["attrs"]["disabled"] = True
        return option


def offer_people(field: forms.ChoiceField, groups: list[PeopleGroup], *, blank: str) -> None:
    """Fill a PeopleSelect field: `blank` first, then a group per team, off-duty people disabled."""
    field.choices = [("", blank)] + [(group.team, [(p.pk, p.label) for p in group.people]) for group in groups]
    widget = field.widget
    assert isinstance(widget, PeopleSelect)
    widget.disabled = frozenset(p.pk for group in groups for p in group.people if not p.on_duty)
    widget.attrs["data-people-filter"] = _("Filter by name or team")


class TransitionForm(ServiceErrorsMixin, forms.Form):
    """One step on one task. Bound to a POST it only parses; unbound it renders the inputs."""

    transition = forms.ChoiceField(choices=transitions.CHOICES, widget=forms.HiddenInput)
    expected_state = forms.CharField(widget=forms.HiddenInput, required=False)
    # One field per input kind of transitions.INPUT_KINDS; each step keeps those its spec
    # names, labelled as the spec says.
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    result = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assignee = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, widget=PeopleSelect)
    channel = forms.ChoiceField(required=False, choices=Channel.choices)
    team = forms.ChoiceField(required=False)
    days = forms.IntegerField(required=False, min_value=1, max_value=365)

    def __init__(
        self,
        *args,
        step: str,
        task: Task,
        assignees: AssigneeChoices | None = None,
        teams: list[Team] | None = None,
        **kwargs,
    ) -> None:
        # Several of these forms share a page: give each its own element ids.
        kwargs.setdefault("auto_id", f"id_{step}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].update(
            {"transition": step, "expected_state": task.state, "channel": task.case.channel if task.case_id else ""}
        )
        super().__init__(*args, **kwargs)
        self.step = step
        self.spec = transitions.TRANSITIONS.get(step)
        self.label = transitions.label(step)
        self.task = task
        inputs = self.spec.inputs if self.spec is not None else {}
        for name in INPUTS:
            if name not in inputs:
                del self.fields[name]
                continue
            self.fields[name].label = self.spec.input_label(name)
            if inputs[name].prefill and name not in self.initial:
                # What was already written (e.g. the result before a send-back) is offered again.
                self.initial[name] = getattr(task, inputs[name].prefill, "")
            if inputs[name].required:
                # The browser's hint; the service enforces it (transitions.check_required).
                self.fields[name].widget.attrs["required"] = "required"
        if "assignee" in self.fields:
            if assignees is None:
                # Only supervisors name someone else; everyone else takes the task themselves.
                del self.fields["assignee"]
            else:
                groups = assignees.groups
                if step == "reassign" and task.assignee_id is not None:  # not to the person holding it
                    groups = [
                        PeopleGroup(group.team, [p for p in group.people if p.pk != task.assignee_id])
                        for group in groups
                    ]
                    groups = [group for group in groups if group.people]
                # Blank means "myself" where the step allows it and the service would let me hold it.
                myself = assignees.myself and not inputs["assignee"].required
                offer_people(self.fields["assignee"], groups, blank=_("Myself") if myself else _("Choose a person…"))
                if not myself:
                    self.fields["assignee"].widget.attrs["required"] = "required"
        if "team" in self.fields:
            self.fields["team"].choices = [("", "—")] + [
                (team.code, f"{team.name} · {team.get_tier_display()}")
                for team in teams or []
                if team.pk != task.team_id
            ]

    def clean_assignee(self) -> int | None:
        value = self.cleaned_data.get("assignee")
        if value is None and self.fields["assignee"].widget.attrs.get("required"):
            # No "myself" on offer: the supervisor could not hold it (or the step names someone).
            raise forms.ValidationError(_("Choose whom to assign the task to."), code="assignee_required")
        return value

    @property
    def is_one_click(self) -> bool:
        return not any(name in self.fields for name in INPUTS)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["transition"],
            "reason": data.get("reason", ""),
            "result": data.get("result", ""),
            "assignee_id": data.get("assignee"),
            "channel": data.get("channel", ""),
            "team_code": data.get("team", ""),
            "days": data.get("days"),
            "expected_state": data.get("expected_state") or None,
        }


class NoteForm(ServiceErrorsMixin, forms.Form):
    """A note on a task. The service checks it (blank, length, mentions); this only parses."""

    body = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a note; @username tells a colleague.")}),
    )
