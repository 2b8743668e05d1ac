"""Sign-in, sign-out, failed and locked-out attempts, written to the append-only trail
through Django's auth signals and django-axes' `user_locked_out`."""

from __future__ import annotations

from django.contrib.auth import signals as auth_signals

from taxservice.signin.addresses import client_ip
from taxservice.signin.models import SignInEvent

USERNAME_MAX = 150


def _record(*, event: str, request, user=None, username: str = "") -> None:
    ip = (getattr(request, "axes_ip_address", None) or client_ip(request)) if request is not None else None
    SignInEvent.objects.create(
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:USERNAME_MAX],
        ip=ip or None,
        event=event,
    )


def on_logged_in(sender, request, user, **kwargs) -> None:
    _record(event=SignInEvent.Event.SIGNED_IN, request=request, user=user)


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:  # signing out without a session is no event
        _record(event=SignInEvent.Event.SIGNED_OUT, request=request, user=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # A refusal because the account or address is locked is recorded once, as locked_out
    # (axes' `user_locked_out` below), not also as a failed password.
    if request is not None and getattr(request, "axes_locked_out", False):
        return
    _record(event=SignInEvent.Event.FAILED, request=request, username=str(credentials.get("username", "")))


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    _record(event=SignInEvent.Event.LOCKED_OUT, request=request, username=str(username or ""))


def connect() -> None:
    from axes.signals import user_locked_out

    auth_signals.user_logged_in.connect(on_logged_in, dispatch_uid="signin.logged_in")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid="signin.logged_out")
    auth_signals.user_login_failed.connect(on_login_failed, dispatch_uid="signin.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="signin.locked_out")
