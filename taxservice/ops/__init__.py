"""Running the service: health and readiness, Prometheus metrics, request ids in the logs
(and into Celery tasks), and the administrators' operations page. docs/operations.md."""
