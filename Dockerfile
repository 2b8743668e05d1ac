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
RUN TAXSERVICE_PRODUCTION=true DJANGO_SECRET_KEY=collectstatic-only-not-a-runtime-key \
    python manage.py collectstatic --noinput \
 && useradd --system --home-dir /app --shell /usr/sbin/nologin taxservice

USER taxservice
EXPOSE 8000
CMD ["gunicorn", "taxservice.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
