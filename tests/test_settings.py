"""Settings from the environment (taxservice.env) and the production switch."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from taxservice.env import database_from_url, env_bool, env_hours, env_int, env_list


def test_a_sqlite_url_with_an_absolute_path():
    assert database_from_url("sqlite:////srv/taxservice/db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/taxservice/db.sqlite3",
    }


def test_a_sqlite_url_with_a_relative_path():
    assert database_from_url("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"


def test_a_sqlite_url_without_a_path_is_in_memory():
    assert database_from_url("sqlite://")["NAME"] == ":memory:"


def test_a_postgres_url_with_password_and_port():
    assert database_from_url("postgres://tax:s%40cret%2F1@db.internal:6543/taxservice", conn_max_age=60) == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "taxservice",
        "USER": "tax",
        "PASSWORD": "s@cret/1",
        "HOST": "db.internal",
        "PORT": "6543",
        "CONN_MAX_AGE": 60,
        "OPTIONS": {},
    }


def test_a_postgres_url_without_password_or_port():
    config = database_from_url("postgresql://postgres@127.0.0.1/test")
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "postgres", "", "127.0.0.1", "", "test",
    )  # fmt: skip


def test_a_postgres_url_passes_sslmode_on():
    assert database_from_url("postgres://u:p@h:5432/d?sslmode=require")["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["mysql://root@localhost/tax", "redis://127.0.0.1:6379/0", "/just/a/path"])
def test_an_unsupported_database_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url(url)


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("YES", True), ("1", True), ("off", False), ("0", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("TAXSERVICE_FLAG", raw)
    assert env_bool("TAXSERVICE_FLAG", not expected) is expected


def test_env_bool_falls_back_to_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("TAXSERVICE_FLAG", raising=False)
    assert env_bool("TAXSERVICE_FLAG", True) is True
    monkeypatch.setenv("TAXSERVICE_FLAG", "")
    assert env_bool("TAXSERVICE_FLAG", False) is False


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("TAXSERVICE_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="TAXSERVICE_FLAG must be a boolean"):
        env_bool("TAXSERVICE_FLAG")


def test_env_int_refuses_a_non_number(monkeypatch):
    monkeypatch.setenv("TAXSERVICE_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="TAXSERVICE_NUMBER must be an integer"):
        env_int("TAXSERVICE_NUMBER", 10)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("TAXSERVICE_HOSTS", " tax.example, ,www.tax.example ")
    assert env_list("TAXSERVICE_HOSTS", []) == ["tax.example", "www.tax.example"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("08:30-17:30", "08:30-17:30"), (" 8:00 - 12:00 ", "08:00-12:00"), ("", "")]
)
def test_env_hours_reads_a_range_of_local_times(monkeypatch, raw, expected):
    monkeypatch.setenv("TAXSERVICE_HOURS", raw)
    assert env_hours("TAXSERVICE_HOURS") == expected


@pytest.mark.parametrize(
    "raw", ["9-5", "08:30", "08:30-17:30-18:00", "17:30-08:30", "08:30-08:30", "25:00-26:00", "08:30+08:00-17:30"]
)
def test_env_hours_refuses_a_malformed_range(monkeypatch, raw):
    monkeypatch.setenv("TAXSERVICE_HOURS", raw)
    with pytest.raises(ImproperlyConfigured, match="TAXSERVICE_HOURS must"):
        env_hours("TAXSERVICE_HOURS")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only the given Django/taxservice variables."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TAXSERVICE_"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_production_configuration_passes_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TAXSERVICE_PRODUCTION="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="tax.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    result = _manage("check", TAXSERVICE_PRODUCTION="true", DJANGO_ALLOWED_HOSTS="tax.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when TAXSERVICE_PRODUCTION=true" in result.stderr


def test_malformed_working_hours_stop_start_up_naming_the_variable():
    result = _manage("check", TAXSERVICE_WORKING_HOURS="9 to 5")
    assert result.returncode != 0
    assert "TAXSERVICE_WORKING_HOURS must be a range of local times" in result.stderr


def test_well_formed_working_hours_start():
    result = _manage("check", TAXSERVICE_WORKING_HOURS="08:30-17:30")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_are_chinese_even_for_an_english_browser_until_english_is_chosen(client, org):
    client.force_login(org.clerk.user)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "zh-hans"
    client.cookies["django_language"] = "en"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")["Content-Language"] == "en"


def test_production_refuses_a_short_secret_key():
    result = _manage(
        "check", TAXSERVICE_PRODUCTION="true", DJANGO_SECRET_KEY="x" * 49, DJANGO_ALLOWED_HOSTS="tax.example"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50 characters" in result.stderr


def test_production_takes_a_key_of_fifty_characters():
    result = _manage(
        "check", TAXSERVICE_PRODUCTION="true", DJANGO_SECRET_KEY="k" * 50, DJANGO_ALLOWED_HOSTS="tax.example"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_off_outside_production_refuses_the_public_development_key():
    result = _manage("check", TAXSERVICE_PRODUCTION="false", DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "the development key is public" in result.stderr
    with_key = _manage("check", TAXSERVICE_PRODUCTION="false", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="s" * 50)
    assert with_key.returncode == 0, with_key.stdout + with_key.stderr


def test_the_development_key_is_still_the_default_with_debug_on():
    result = _manage("check")
    assert result.returncode == 0, result.stdout + result.stderr
