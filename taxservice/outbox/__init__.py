"""The transactional outbox: follow-up work written as a row in the same transaction as the
change, then published to Celery by an on-commit nudge and, whatever fails, by the relay.

A committed write never loses its follow-up and never answers 500 because the broker is
down: the message waits here until a relay publishes it (docs/outbox-and-webhooks.md).
"""
