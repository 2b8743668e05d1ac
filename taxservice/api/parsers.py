"""The API's JSON parser: bounded in size and depth, and no NUL character anywhere.

DRF's JSONParser reads the whole body and hands it to `json.loads`, whose recursion a
body nested 50,000 deep exhausts (RecursionError: an HTML 500). This one

- reads at most TAXSERVICE_API_MAX_BODY_BYTES (+1) and refuses more (413 `body_too_large`;
  the middleware already refused a Content-Length over the limit before anything ran);
- refuses nesting deeper than MAX_DEPTH (400 `too_deep`), and a RecursionError inside
  the decoder the same way;
- refuses a NUL character (`\\u0000`) in any key or value (400 `nul_byte`): PostgreSQL
  text cannot hold one, and no field of this API needs one.

The walk over the decoded value is iterative, so it cannot run out of stack either.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    return int(getattr(settings, "TAXSERVICE_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(_("The request body is larger than %(n)s bytes.") % {"n": limit})
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise _too_deep() from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        check_value(data)
        return data


def check_value(data) -> None:
    """Refuse nesting deeper than MAX_DEPTH and any NUL character, without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise nul_byte()
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key, item in value.items():
                    if "\x00" in key:
                        raise nul_byte()
                    pending.append((item, depth + 1))
            else:
                pending.extend((item, depth + 1) for item in value)


def nul_byte() -> exceptions.ParseError:
    return exceptions.ParseError(_("The request contains a NUL character, which no field accepts."), code="nul_byte")


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        _("The JSON is nested more than %(n)s levels deep.") % {"n": MAX_DEPTH}, code="too_deep"
    )


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON; Python's decoder accepts them by default.
    raise ValueError(f"{name} is not valid JSON")
