# The taxservice image: one image for the web process, the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt ./
# Every package pinned with its hashes (requirements.in is compiled into it: README.md).
RUN pip install --require-hashes -r requirements.txt

COPY . .

# Static files are collected into the image with the production storage (hashed names
# and a manifest); the key is a throwaway used only by this build step.
RUN TAXSERVICE_PRODUCTION=true DJANGO_SECRET_KEY=collectstatic-only-not-a-runtime-key-of-fifty-characters \
    python manage.py collectstatic --noinput \
 && useradd --system --home-dir /app --shell /usr/sbin/nologin taxservice

USER taxservice
EXPOSE 8000
# The web process by default: ready when /readyz answers 200 (docs/operations.md). The worker
# and beat override the command and the healthcheck (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=5).status != 200)"]
# No gunicorn access log: the app logs one JSON line per request itself (taxservice/ops/middleware.py).
# The processes' request counters add up through PROMETHEUS_MULTIPROC_DIR, emptied at each start.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
CMD ["sh", "-c", "rm -rf /tmp/prometheus && mkdir -p /tmp/prometheus && exec gunicorn taxservice.wsgi --bind 0.0.0.0:8000 --workers 3"]
