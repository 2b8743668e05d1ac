"""Bounded input: a body limit, a max_length on every text field, no NUL, a bounded JSON depth."""

from __future__ import annotations

import io
import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from taxservice.api import parsers
from taxservice.workflow.cases.models import Case, Task

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

# String formats that bound themselves.
SELF_BOUNDED_FORMATS = {"date", "date-time", "time", "binary", "uri", "uuid", "email", "decimal"}


def case_payload(taxpayer, **changes):
    return {
        "taxpayer": taxpayer.credit_code,
        "channel": "hall_window",
        "hall": "H01",
        "items": [{"item": "I001"}],
        **changes,
    }


class TestBodyLimit:
    def test_the_30_mb_notes_of_the_report_are_refused_unread(self, api, org, taxpayer, items):
        body = json.dumps(case_payload(taxpayer, notes="x" * (30 * 1024 * 1024)))
        response = api(org.clerk).generic("POST", "/api/v1/cases/", body, content_type="application/json")
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large" and response.json()["detail"]
        assert not Case.objects.exists()

    def test_the_limit_is_a_setting(self, api, org, taxpayer, items, settings):
        settings.TAXSERVICE_API_MAX_BODY_BYTES = 200
        small = api(org.clerk).post("/api/v1/cases/", case_payload(taxpayer), format="json")
        assert small.status_code == 201
        large = api(org.clerk).post("/api/v1/cases/", case_payload(taxpayer, notes="x" * 200), format="json")
        assert large.status_code == 413
        assert Case.objects.count() == 1

    def test_the_parser_stops_reading_at_the_limit(self, settings):
        # A body longer than its Content-Length said (or with none) is cut by the reader too.
        settings.TAXSERVICE_API_MAX_BODY_BYTES = 100
        stream = io.BytesIO(json.dumps({"notes": "x" * 1000}).encode())
        with pytest.raises(parsers.RequestTooLarge):
            parsers.BoundedJSONParser().parse(stream)
        assert stream.tell() == 101

    def test_a_form_body_is_bounded_too(self, api, org, settings):
        settings.TAXSERVICE_API_MAX_BODY_BYTES = 100
        response = api(org.clerk).post("/api/v1/cases/", {"notes": "x" * 500})  # multipart by default
        assert response.status_code != 413  # multipart: the upload endpoints' own limits
        body = "notes=" + "x" * 500
        response = api(org.clerk).generic(
            "POST", "/api/v1/cases/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413

    def test_a_content_length_that_is_no_number_is_400(self, api, org):
        response = api(org.clerk).generic(
            "POST", "/api/v1/cases/", "{}", content_type="application/json", CONTENT_LENGTH="lots"
        )
        assert (response.status_code, response.json()["code"]) == (400, "bad_request")


class TestTextLimits:
    @pytest.mark.parametrize(
        ("path", "field", "payload"),
        [
            ("/api/v1/cases/", "notes", lambda tp: case_payload(tp, notes="字" * 4001)),
            ("/api/v1/cases/", "items", lambda tp: case_payload(tp, items=[{"item": "I001", "note": "字" * 4001}])),
            ("/api/v1/tasks/", "notes", lambda tp: {"source": "risk", "taxpayer": tp.credit_code, "item": "A001"}),
        ],
    )
    def test_overlong_text_is_400_and_writes_nothing(self, api, org, taxpayer, items, path, field, payload):
        body = payload(taxpayer)
        if path == "/api/v1/tasks/":
            body["notes"] = "字" * 4001
        response = api(org.integrator).post(path, body, format="json")
        assert response.status_code == 400, response.content[:200]
        assert field in response.json()["fields"]
        assert not Case.objects.exists() and not Task.objects.exists()

    def test_4000_characters_are_accepted(self, api, org, taxpayer, items):
        response = api(org.clerk).post("/api/v1/cases/", case_payload(taxpayer, notes="字" * 4000), format="json")
        assert response.status_code == 201

    def test_every_text_field_of_every_request_in_the_schema_has_a_max_length(self, db):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        unbounded = []

        def check(where, spec):
            spec = spec or {}
            if spec.get("type") == "string" and not (
                "maxLength" in spec or "enum" in spec or spec.get("format") in SELF_BOUNDED_FORMATS
            ):
                unbounded.append(where)
            for key in ("items", "additionalProperties"):
                if isinstance(spec.get(key), dict):
                    check(f"{where}[]", spec[key])
            for name, inner in (spec.get("properties") or {}).items():
                check(f"{where}.{name}", inner)

        components = schema["components"]["schemas"]
        requests = [name for name in components if name.endswith("Request")]
        assert len(requests) >= 20
        for name in requests:
            check(name, components[name])
        assert not unbounded, unbounded


class TestNul:
    def test_nul_in_a_json_key_is_400(self, api, org, taxpayer, items):
        body = json.dumps(case_payload(taxpayer)).replace('"notes"', '"no\\u0000tes"', 1)
        body = body[:-1] + ', "x\\u0000": 1}'
        response = api(org.clerk).generic("POST", "/api/v1/cases/", body, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "nul_byte")

    def test_nul_in_a_form_body_is_400(self, api, org):
        response = api(org.clerk).generic(
            "POST", "/api/v1/cases/", "notes=a%00b", content_type="application/x-www-form-urlencoded"
        )
        assert (response.status_code, response.json()["code"]) == (400, "nul_byte")

    def test_nul_in_a_query_parameter_name_is_400(self, api, org):
        response = api(org.clerk).get("/api/v1/tasks/?a%00=1")
        assert (response.status_code, response.json()["code"]) == (400, "nul_byte")


class TestDepth:
    def test_32_levels_are_fine_and_33_are_400(self, api, org):
        parser = parsers.BoundedJSONParser()
        ok = "[" * parsers.MAX_DEPTH + "]" * parsers.MAX_DEPTH
        assert parser.parse(io.BytesIO(ok.encode())) is not None
        too_deep = "[" * (parsers.MAX_DEPTH + 1) + "]" * (parsers.MAX_DEPTH + 1)
        response = api(org.clerk).generic("POST", "/api/v1/cases/", too_deep, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "too_deep")

    def test_nan_is_not_json(self, api, org):
        response = api(org.clerk).generic("POST", "/api/v1/cases/", '{"notes": NaN}', content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "parse_error")
