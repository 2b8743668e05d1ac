"""The first middleware: a request id, the log context, one access line, the request metrics,
and the probes answered before anything else runs.

- **Request id.** An incoming `X-Request-ID` is kept when it is short and safe
  (`log.clean_request_id`), otherwise one is made; it is the log context's id for the
  request (and for the Celery tasks it sends: `ops.celery_signals`) and the response
  carries it back in `X-Request-ID`.
- **One line a request.** A response under 400 logs one `taxservice.request` line (view,
  method, status, duration); a 4xx or 5xx is already logged once by Django
  (`django.request`, with the same context), so it gets no second line. Off by default in
  development, where runserver prints its own access lines (TAXSERVICE_ACCESS_LOG).
- **Metrics.** Every response is counted under its view *name* (`ops.metrics`).
- **Probes.** `/healthz`, `/readyz` and `/metrics` are answered here, before the security,
  session and host checks: a load balancer or Prometheus calls them by an internal address
  over plain HTTP, which `ALLOWED_HOSTS` and the HTTPS redirect would otherwise refuse.
  They read no session and make no URL, so the host header does not matter to them.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from taxservice import log
from taxservice.ops import metrics, views
from taxservice.org.selectors import staff_for_user

logger = logging.getLogger("taxservice.request")

PROBES = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": views.metrics_view}
# Their view names, for the metrics and for keeping probe lines out of the access log.
PROBE_VIEWS = {"/healthz": "ops-healthz", "/readyz": "ops-readyz", "/metrics": "ops-metrics"}
HEADER = "X-Request-ID"


class RequestContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = log.clean_request_id(request.headers.get(HEADER)) or log.new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        context = log.LogContext(request_id=request_id, request=request)
        token = log.set_context(context)
        try:
            probe = PROBES.get(request.path_info.rstrip("/") or request.path_info)
            if probe is not None:
                response = probe(request)
                view = PROBE_VIEWS[request.path_info.rstrip("/")]
            else:
                response = self.get_response(request)
                match = getattr(request, "resolver_match", None)
                view = match.view_name if match is not None else metrics.UNMATCHED
            seconds = time.perf_counter() - started
            response.headers[HEADER] = request_id
            metrics.observe_request(
                view=view, method=request.method or "", status=response.status_code, seconds=seconds
            )
            log.fill_user(context, log.loaded_user(request))
            if response.status_code < 400 and settings.TAXSERVICE_ACCESS_LOG:
                level = logging.DEBUG if probe is not None else logging.INFO
                logger.log(
                    level,
                    "%s %s %s %.0fms",
                    request.method,
                    view,
                    response.status_code,
                    seconds * 1000,
                    extra={
                        "view": view,
                        "method": request.method,
                        "status_code": response.status_code,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )
            return response
        finally:
            log.reset_context(token)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        """After the session and authentication middleware, before the view: the signed-in
        user's id and role go into the context now, so the view's own lines carry them. (A
        token user of the API is known only once DRF authenticates inside the view; the filter
        and the access line pick it up then.)"""
        context = log.current_context()
        if context is not None and context.user_id is None:
            try:
                # The staff record every page loads anyway (cached on the user) gives the role.
                staff_for_user(getattr(request, "user", None))
                log.fill_user(context, getattr(request, "user", None))
            except Exception:  # the database is down: the view will say so, not the log context
                logger.debug("Could not read the request's user for the log context", exc_info=True)
