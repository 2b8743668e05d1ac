"""Signed webhooks for integrators: subscriptions, events written through the outbox in the
change's transaction, deliveries with retries and a log (docs/outbox-and-webhooks.md)."""
