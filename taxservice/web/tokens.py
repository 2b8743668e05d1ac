"""The API tokens page (administrators): every token with its prefix, owner, scope, expiry,
last use and state; create one (its key is shown on the answer, once) or revoke one, saying
why. The services audit both (taxservice/signin/services.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.signin import selectors
from taxservice.signin.models import ApiToken
from taxservice.signin.services import MAX_DAYS, NAME_MAX, token_create, token_revoke
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.web.queries import paginate


class TokenForm(ServiceErrorsMixin, forms.Form):
    owner = forms.ModelChoiceField(queryset=Staff.objects.none(), label=gettext_lazy("Account"))
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX,
        help_text=gettext_lazy("What uses the token, e.g. the interaction platform's interface."),
    )
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, label=gettext_lazy("Scope"), initial=ApiToken.Scope.READ)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=MAX_DAYS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owners = selectors.token_owner_choices()
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda staff: f"{staff.user.username} · {staff.name}"
        self.fields["days"].initial = settings.TAXSERVICE_API_TOKEN_DAYS


def _context(request: HttpRequest, *, form: TokenForm | None = None, created=None) -> dict:
    page = paginate(request, selectors.token_list())
    revocations = selectors.token_revocations(token_ids=[token.pk for token in page.object_list])
    for token in page.object_list:
        token.revocation = revocations.get(token.pk)
    return {"page": page, "form": form or TokenForm(), "created": created}


@staff_page(access.is_admin)
def tokens_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    if request.method != "POST":
        return render(request, "web/tokens.html", _context(request))
    form = TokenForm(request.POST)
    if not form.is_valid():
        return render(request, "web/tokens.html", _context(request, form=form), status=400)
    data = form.cleaned_data
    try:
        created = token_create(
            actor=staff, owner=data["owner"], name=data["name"], scope=data["scope"], days=data["days"]
        )
    except ServiceError as error:
        form.add_service_error(error)
        return render(request, "web/tokens.html", _context(request, form=form), status=400)
    # The key is in this answer only: not stored, not in a redirect, not cached.
    response = render(request, "web/tokens.html", _context(request, created=created), status=201)
    response["Cache-Control"] = "no-store"
    return response


@staff_page(access.is_admin)
def token_revoke_view(request: HttpRequest, staff: Staff, token_id: int) -> HttpResponse:
    if request.method == "POST":
        try:
            token = token_revoke(actor=staff, token_id=token_id, reason=request.POST.get("reason", ""))
        except ServiceError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("Token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return HttpResponseRedirect(reverse("api_tokens"))
