"""What a locked-out sign-in sees: the sign-in page again, with a sentence saying why and
for how long (django-axes' AXES_LOCKOUT_CALLABLE), answered 429."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKED_STATUS = 429


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    form = AuthenticationForm(request, initial={"username": username})
    message = _(
        "Too many failed sign-ins for this account or from this address. Signing in is locked for "
        "%(minutes)d minutes; try again later or ask an administrator to unlock it."
    ) % {"minutes": lockout_minutes()}
    context = {"form": form, "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=LOCKED_STATUS)
