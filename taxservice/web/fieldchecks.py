"""Field checks (实地核查) on the task page: the list with the attachments' download links,
the form that records one, and the permission-checked download.

The task page's view adds `field_check_panel` to its context; the form posts here
(`field_check_record`), which calls `fieldchecks.services.field_check_record` and goes
back to the task page. A refusal shows the form again on a page of its own, with the
messages on its inputs and what was typed (files must be chosen again: browsers never
refill a file input). Files are handed out only by `field_check_attachment`, to staff
who see the task; to anyone else the answer is 404, as if there were no file.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.workflow.cases import selectors as task_selectors
from taxservice.workflow.cases.models import TERMINAL_STATES, Task
from taxservice.workflow.fieldchecks import policy, selectors, services
from taxservice.workflow.fieldchecks.models import FINDINGS_MAX_CHARS, PLACE_MAX_CHARS, FieldCheck, FieldCheckAttachment


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the service checks their count, size and type."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        kwargs.setdefault("allow_empty_file", True)  # the service refuses it as not a PDF/JPEG/PNG
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(item, initial) for item in data if item]
        return [one(data, initial)] if data else []


class FieldCheckForm(ServiceErrorsMixin, forms.Form):
    """The check's fields as typed; the service validates them (and the form keeps them)."""

    place = forms.CharField(label=gettext_lazy("Place"), max_length=PLACE_MAX_CHARS, required=False)
    visited_on = forms.DateField(
        label=gettext_lazy("Visited on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    staff = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Who went"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    result = forms.ChoiceField(
        label=gettext_lazy("Result of the check"),
        choices=FieldCheck.Result.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    findings = forms.CharField(
        label=gettext_lazy("Findings"),
        max_length=FINDINGS_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(label=gettext_lazy("Attachments (PDF, JPEG, PNG)"), required=False)

    def __init__(self, *args, people: list[Staff], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(person.pk, person.name) for person in people]


def field_check_panel(*, staff: Staff, task: Task, form: FieldCheckForm | None = None) -> dict:
    """The task page's field-check panel: the checks, newest first, and the form for those
    who may record one on this (open) task."""
    may_record = task.state not in TERMINAL_STATES and policy.may_record(staff, task)
    if may_record and form is None:
        form = FieldCheckForm(
            people=selectors.companion_choices(task=task, actor=staff),
            initial={"staff": [staff.pk]},
        )
    return {
        "checks": list(selectors.field_check_list(task=task)),
        "form": form if may_record else None,
        "max_files": services.MAX_ATTACHMENTS,
        "max_mb": f"{services.max_bytes() / (1024 * 1024):g}",
    }


@require_POST
@staff_page()
def field_check_record(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """Record a field check (multipart POST from the task page), then back to the task (PRG)."""
    task = task_selectors.task_get_for_staff(staff=staff, task_id=task_id)
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    form = FieldCheckForm(request.POST, request.FILES, people=selectors.companion_choices(task=task, actor=staff))
    if form.is_valid():
        data = form.cleaned_data
        try:
            check = services.field_check_record(
                actor=staff,
                task_id=task.pk,
                place=data["place"],
                visited_on=data["visited_on"],
                findings=data["findings"],
                result=data["result"],
                staff_ids=data["staff"],
                uploads=data["files"],
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Field check recorded, with %(n)s attachment(s).") % {"n": check.attachments.count()},
            )
            return redirect(reverse("task_detail", args=[task.pk]) + "#field-checks")
    context = {"task": task, "field_checks": field_check_panel(staff=staff, task=task, form=form)}
    return render(request, "web/field_check_record.html", context, status=400)


@staff_page()
def field_check_attachment(request: HttpRequest, staff: Staff, attachment_id: int) -> HttpResponse:
    """Download an attachment: only to staff who see its task; 404 to anyone else."""
    attachment = selectors.attachment_get_for_staff(staff=staff, attachment_id=attachment_id)
    if attachment is None:
        raise Http404(_("No such file."))
    return attachment_response(attachment)


def attachment_response(attachment: FieldCheckAttachment) -> FileResponse:
    """The file, streamed as a download under its original name, never sniffed or cached
    by the browser. (The API's download answers with this too.)"""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("No such file.")) from missing
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
