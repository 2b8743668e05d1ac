"""The transition form: parses one step on a task. The service decides what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.errors import ServiceError
from taxservice.org.models import Staff, Team
from taxservice.web.labels import FIELD_LABELS, service_message, transition_label
from taxservice.workflow.cases.models import TRANSITION_METHODS, Channel, Task
from taxservice.workflow.cases.policy import REASON_REQUIRED

# Which inputs each step shows, and whether the person must fill them in. Only the
# service enforces anything; `required` here is the browser's hint.
STEP_FIELDS: dict[str, dict[str, bool]] = {
    "handle_on_spot": {"result": True},
    "assign": {"assignee": False},
    "return": {"reason": True},
    "request_materials": {"reason": False},
    "escalate": {"reason": True},
    "submit_for_approval": {"result": False},
    "approve": {"reason": False},
    "reject": {"reason": True},
    "complete": {"result": False},
    "give_feedback": {"result": True, "channel": True},
    "cancel": {"reason": True},
    "reroute": {"team": True, "reason": True},
    "reassign": {"assignee": True, "reason": True},
}

# A few steps call their reason something more precise.
REASON_LABELS = {
    "approve": _("Opinion"),
    "reject": _("Opinion"),
    "request_materials": _("Materials needed"),
}
RESULT_LABELS = {
    "give_feedback": _("Result returned to the taxpayer"),
    "handle_on_spot": _("Result given to the taxpayer"),
}

INPUTS = ("reason", "result", "assignee", "channel", "team")

# Steps that change nothing but the state are safe as one-click buttons on list pages.
ONE_CLICK_STEPS = ("assign", "accept", "transfer", "receive_materials")


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


class TransitionForm(ServiceErrorsMixin, forms.Form):
    """One step on one task. Bound to a POST it only parses; unbound it renders the inputs."""

    transition = forms.ChoiceField(choices=[(name, name) for name in TRANSITION_METHODS], widget=forms.HiddenInput)
    expected_state = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    result = forms.CharField(label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assignee = forms.TypedChoiceField(label=_("Assignee"), required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label=_("Feedback channel"), required=False, choices=Channel.choices)
    team = forms.ChoiceField(label=_("Send to team"), required=False)

    def __init__(
        self,
        *args,  # noqa: ANN002
        step: str,
        task: Task,
        assignees: list[Staff] | None = None,
        teams: list[Team] | None = None,
        **kwargs,  # noqa: ANN003
    ) -> None:
        # Several of these forms share a page: give each its own element ids.
        kwargs.setdefault("auto_id", f"id_{step}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].update(
            {"transition": step, "expected_state": task.state, "channel": task.case.channel if task.case_id else ""}
        )
        super().__init__(*args, **kwargs)
        self.step = step
        self.label = transition_label(step)
        self.task = task
        shown = STEP_FIELDS.get(step, {})
        for name in INPUTS:
            if name not in shown:
                del self.fields[name]
            elif shown[name] or (name == "reason" and step in REASON_REQUIRED):
                self.fields[name].widget.attrs["required"] = "required"
        if "reason" in self.fields and step in REASON_LABELS:
            self.fields["reason"].label = REASON_LABELS[step]
        if "result" in self.fields and step in RESULT_LABELS:
            self.fields["result"].label = RESULT_LABELS[step]
        if "assignee" in self.fields:
            if assignees:
                self.fields["assignee"].choices = [("", _("Myself"))] + [(s.pk, s.name) for s in assignees]
            else:
                # Only supervisors name someone else; everyone else takes the task themselves.
                del self.fields["assignee"]
        if "team" in self.fields:
            self.fields["team"].choices = [("", "—")] + [
                (team.code, f"{team.name} · {team.get_tier_display()}")
                for team in teams or []
                if team.pk != task.team_id
            ]

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
            "expected_state": data.get("expected_state") or None,
        }
