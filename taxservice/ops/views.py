"""The probes (/healthz, /readyz), the Prometheus endpoint (/metrics) and the operations page.

The probes and /metrics need no sign-in and are answered by the first middleware
(`ops.middleware`) before sessions and host checks; they are routed in urls.py as well, so
`reverse()` knows them. Every refusal is JSON with a `code`.
"""

from __future__ import annotations

import hmac

from celery import current_app
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from taxservice import access
from taxservice.ops import metrics, selectors, taskstats
from taxservice.org.models import Staff
from taxservice.web.access import staff_page

# The operations page waits this long for the workers' answers to a ping.
WORKER_PING_TIMEOUT = 1.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else, so a slow database never gets a
    healthy process restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers, migrations are applied, the broker answers (when one
    is configured) and no work is stuck. 200 when all hold, else 503; each check's result."""
    result = selectors.readiness()
    return JsonResponse(result.as_dict(), status=200 if result.ok else 503)


def _refusal(code: str, detail: str, status: int) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape. With TAXSERVICE_METRICS_TOKEN set, only `Authorization: Bearer
    <token>` is let in. Without it the endpoint is open in development and closed in
    production (TAXSERVICE_PRODUCTION=true): set a token there."""
    token = settings.TAXSERVICE_METRICS_TOKEN
    if token:
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return _refusal("metrics_token_required", "Send Authorization: Bearer <token>.", 401)
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return _refusal("metrics_token_invalid", "The metrics token does not match.", 403)
    elif settings.PRODUCTION:
        return _refusal("metrics_disabled", "Set TAXSERVICE_METRICS_TOKEN to enable /metrics.", 404)
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


def worker_pings() -> dict[str, bool] | None:
    """{worker name: answered} from `celery inspect ping`, or None with no broker configured."""
    if not selectors.broker_configured():
        return None
    try:
        answers = current_app.control.inspect(timeout=WORKER_PING_TIMEOUT).ping() or {}
    except Exception:  # the broker is down: no worker can be reached, which the page says
        return {}
    return {name: reply.get("ok") == "pong" for name, reply in sorted(answers.items())}


@staff_page(access.is_admin)
@never_cache
def status(request: HttpRequest, staff: Staff) -> HttpResponse:
    snapshot = selectors.ops_snapshot()
    try:
        task_counts = taskstats.read()
    except Exception:  # Redis is down: the rest of the page still helps
        task_counts = None
    tasks: dict[str, dict[str, int]] = {}
    for (name, outcome), count in (task_counts or {}).items():
        tasks.setdefault(name, {})[outcome] = count
    return render(
        request,
        "ops/status.html",
        {
            "snapshot": snapshot,
            "readiness": selectors.readiness(),
            "workers": worker_pings(),
            "beat_allowance_minutes": int(selectors.beat_allowance().total_seconds() // 60),
            "task_outcomes": sorted(tasks.items()),
            "task_outcomes_unavailable": task_counts is None,
            "stuck_minutes": settings.TAXSERVICE_STUCK_MINUTES,
        },
    )
