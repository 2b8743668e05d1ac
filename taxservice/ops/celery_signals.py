"""Celery signal handlers: the request id follows the work into tasks; outcomes are counted.

- `before_task_publish` copies the sender's log context (request id, user id, role) into
  the message's headers; `task_prerun` makes it the task's context, so every line the task
  logs carries the id of the request that caused it. A task nobody's request sent (beat's
  sweep) gets an id of its own. In the embedded setup tasks run eagerly inside the
  request and simply keep its context.
- `task_success`, `task_failure` and `task_retry` count outcomes (`taskstats`).

Connected once, by `OpsConfig.ready()`, in every process that loads Django.
"""

from __future__ import annotations

from celery import signals

from taxservice import log
from taxservice.ops import taskstats

HEADER_REQUEST_ID = "taxservice_request_id"
HEADER_USER_ID = "taxservice_user_id"
HEADER_ROLE = "taxservice_role"

# task id -> the token that restores the context the task started in.
_tokens: dict[str, object] = {}


def _publish(sender=None, headers=None, **kwargs) -> None:
    context = log.current_context()
    if context is None or headers is None:
        return
    headers[HEADER_REQUEST_ID] = context.request_id
    if context.user_id is None and context.request is not None:
        log.fill_user(context, log.loaded_user(context.request))
    if context.user_id is not None:
        headers[HEADER_USER_ID] = context.user_id
    if context.role:
        headers[HEADER_ROLE] = context.role


def _prerun(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    request_id = log.clean_request_id(getattr(request, HEADER_REQUEST_ID, None))
    if request_id is None:
        if log.current_context() is not None:
            return  # run eagerly inside a request: its context goes on
        request_id = "task-" + log.new_request_id()
    user_id = getattr(request, HEADER_USER_ID, None)
    context = log.LogContext(
        request_id=request_id,
        user_id=user_id if isinstance(user_id, int) else None,
        role=str(getattr(request, HEADER_ROLE, "") or "")[:100],
    )
    if task_id:
        _tokens[task_id] = log.set_context(context)


def _postrun(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            log.reset_context(token)
        except ValueError:  # set in another context (should not happen): just clear it
            log.set_context(None)


def _success(sender=None, **kwargs) -> None:
    taskstats.record(task=getattr(sender, "name", "unknown"), outcome="success")


def _failure(sender=None, **kwargs) -> None:
    taskstats.record(task=getattr(sender, "name", "unknown"), outcome="failure")


def _retry(sender=None, **kwargs) -> None:
    taskstats.record(task=getattr(sender, "name", "unknown"), outcome="retry")


def connect() -> None:
    signals.before_task_publish.connect(_publish, dispatch_uid="taxservice.ops.publish")
    signals.task_prerun.connect(_prerun, dispatch_uid="taxservice.ops.prerun")
    signals.task_postrun.connect(_postrun, dispatch_uid="taxservice.ops.postrun")
    signals.task_success.connect(_success, dispatch_uid="taxservice.ops.success")
    signals.task_failure.connect(_failure, dispatch_uid="taxservice.ops.failure")
    signals.task_retry.connect(_retry, dispatch_uid="taxservice.ops.retry")
