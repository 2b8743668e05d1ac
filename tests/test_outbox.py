"""The transactional outbox (docs/outbox-and-webhooks.md): follow-ups are written in the
change's transaction, published after the commit, and relayed later when the broker is down;
a committed write never answers 500 because of the broker."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from celery import current_app, shared_task
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from taxservice import scheduling
from taxservice.outbox import services as outbox
from taxservice.outbox.models import OutboxMessage
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Notification, TaskTransition

CALLS: list[tuple] = []
RECORD = "tests.outbox.record"
FLAKY = "tests.outbox.flaky"
FLAKY_STATE = {"failures_left": 0}


@shared_task(name=RECORD)
def record(*args, **kwargs):
    CALLS.append((args, kwargs))


@shared_task(name=FLAKY)
def flaky(value):
    if FLAKY_STATE["failures_left"] > 0:
        FLAKY_STATE["failures_left"] -= 1
        raise RuntimeError("worker-side failure")
    CALLS.append(((value,), {}))


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    FLAKY_STATE["failures_left"] = 0
    current_app.tasks[RECORD]  # registered (finalises the shared tasks above)
    yield
    CALLS.clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once the socket is: nothing listens there


@pytest.fixture
def broker_down(settings):
    """Celery with a real (Redis) broker that nobody answers: eager off, a closed port."""
    conf = current_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_write_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    conf.task_always_eager = False
    conf.broker_url = conf.broker_write_url = f"redis://127.0.0.1:{_closed_port()}/0"
    current_app._pool = None
    current_app.amqp._producer_pool = None
    yield
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved
    current_app._pool = None
    current_app.amqp._producer_pool = None
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_a_follow_up_is_a_row_in_the_transaction_and_runs_once_after_the_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            scheduling.after_commit(RECORD, 7, flag="x")
            message = OutboxMessage.objects.get(task_name=RECORD)
            assert (message.args, message.kwargs, message.sent_at) == ([7], {"flag": "x"}, None)
            assert CALLS == []  # nothing before the commit
    assert CALLS == [((7,), {"flag": "x"})]  # the embedded setup: in-process, right after the commit
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1
    assert outbox.relay().sent == 0  # a relay afterwards does not send it again
    assert len(CALLS) == 1


def test_a_rolled_back_write_leaves_no_message_and_runs_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            scheduling.after_commit(RECORD, 1)
            raise RuntimeError("the change fails")
    assert not OutboxMessage.objects.exists()
    assert CALLS == []


def test_with_the_broker_down_six_writes_answer_2xx_and_a_later_relay_delivers_them(
    api, org, open_case, django_capture_on_commit_callbacks, request, settings
):
    tasks = [open_case("assisted").tasks.get() for _ in range(6)]
    with django_capture_on_commit_callbacks(execute=True):  # the broker is up: into the hub's queue
        for task in tasks:
            case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()

    request.getfixturevalue("broker_down")
    client = api(org.member)
    statuses = []
    for task in tasks:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "assign"}, format="json")
        statuses.append(response.status_code)
    assert statuses == [200] * 6
    assigns = TaskTransition.objects.filter(task__in=tasks, transition="assign")
    assert assigns.count() == 6  # every write committed
    waiting = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert sorted(m.args[0] for m in waiting if m.task_name == scheduling.NOTIFY_TRANSITION) == sorted(
        assigns.values_list("pk", flat=True)
    )
    assert all(m.attempts == 1 and "OperationalError" in m.last_error for m in waiting)
    assert all(m.available_at > m.created_at for m in waiting)  # backed off
    assert outbox.backlog().pending == waiting.count()
    assert not Notification.objects.filter(transition__in=assigns).exists()  # nothing ran yet

    # The broker is back (here: in-process again); the relay publishes what waited.
    current_app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    OutboxMessage.objects.update(available_at=timezone.now())  # past their backoff
    result = outbox.relay()
    assert result.sent == waiting.model.objects.filter(sent_at__isnull=False, attempts=2).count() >= 6
    assert result.failed == 0
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    notified = Notification.objects.filter(transition__in=assigns)
    assert sorted(notified.values_list("task_id", flat=True)) == sorted(t.pk for t in tasks)  # once each


def test_the_relay_backs_off_and_retries_until_the_task_is_accepted(db, django_capture_on_commit_callbacks):
    FLAKY_STATE["failures_left"] = 2
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            scheduling.after_commit(FLAKY, "v")
    message = OutboxMessage.objects.get(task_name=FLAKY)
    assert message.sent_at is None and message.attempts == 1 and "worker-side failure" in message.last_error
    first_wait = message.available_at - timezone.now()
    assert outbox.relay().sent == 0  # not due yet
    assert outbox.relay(now=message.available_at + dt.timedelta(seconds=1)).failed == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.available_at - timezone.now() > first_wait  # doubled
    assert outbox.relay(now=message.available_at + dt.timedelta(seconds=1)).sent == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.last_error == "" and message.attempts == 3
    assert CALLS == [(("v",), {})]


def test_backoff_doubles_up_to_ten_minutes():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert outbox.backoff(30).total_seconds() == 600


def test_a_claimed_message_is_not_published_twice_until_its_lease_ends(db):
    message = outbox.enqueue(RECORD, [1])
    now = timezone.now()
    claimed = outbox._claim(now=now, ids=None, limit=10)
    assert [m.pk for m in claimed] == [message.pk]
    assert outbox._claim(now=now, ids=None, limit=10) == []  # leased: a second relay skips it
    later = now + dt.timedelta(seconds=301)  # the publisher died: the lease ends
    assert [m.pk for m in outbox._claim(now=later, ids=None, limit=10)] == [message.pk]


def test_a_dedupe_key_keeps_one_waiting_message(db):
    assert outbox.enqueue(RECORD, [1], dedupe_key="sweep") is not None
    assert outbox.enqueue(RECORD, [2], dedupe_key="sweep") is None
    assert OutboxMessage.objects.filter(dedupe_key="sweep").count() == 1
    OutboxMessage.objects.update(sent_at=timezone.now())
    assert outbox.enqueue(RECORD, [3], dedupe_key="sweep") is not None  # the first one left


def test_the_relay_command_publishes_and_the_purge_deletes_old_sent_messages(db, capsys):
    waiting = outbox.enqueue(RECORD, [5], delay=dt.timedelta(hours=1))
    call_command("relay_outbox")
    assert CALLS == []
    call_command("relay_outbox", "--all")
    assert CALLS == [((5,), {})]
    assert "sent 1, failed 0, still pending 0" in capsys.readouterr().out
    old = outbox.enqueue(RECORD, [6])
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - dt.timedelta(days=8))
    assert outbox.purge_sent(days=7) == 1
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_a_transition_writes_its_notification_follow_up_through_the_outbox(
    org, open_case, django_capture_on_commit_callbacks
):
    task = open_case("joint").tasks.get()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    log = TaskTransition.objects.get(task=task, transition="transfer")
    message = OutboxMessage.objects.get(task_name=scheduling.NOTIFY_TRANSITION, args=[log.pk])
    assert message.sent_at is not None


def test_the_backlog_is_on_the_operations_page_and_in_the_metrics(client, org, settings):
    settings.LANGUAGE_CODE = "en"
    waiting = outbox.enqueue(RECORD, [1], delay=dt.timedelta(hours=1))
    OutboxMessage.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10), last_error="OperationalError('refused')"
    )
    outbox.enqueue(RECORD, [2], delay=dt.timedelta(hours=1))
    client.force_login(org.admin.user)
    page = client.get("/operations/")
    assert page.context["snapshot"].outbox.pending == 2
    assert page.context["snapshot"].outbox.failing == 1
    assert 'id="ops-outbox"' in page.content.decode()

    metrics = client.get("/metrics").content.decode()
    assert "taxservice_outbox_pending_messages 2.0" in metrics
    age = next(
        line for line in metrics.splitlines() if line.startswith("taxservice_outbox_oldest_pending_age_seconds ")
    )
    assert float(age.split()[1]) >= 600
