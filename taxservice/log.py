"""Logging filters named by LOGGING in settings.py."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Log a 4xx response as its one line, without the exception's traceback.

    Django logs every response it turns an exception into (`django.utils.log.log_response`)
    with the exception attached, so an ordinary 403 (PermissionDenied from a page's rule)
    or 400 printed a full traceback that points at nothing wrong. A 4xx is the client's
    mistake, and its line already says what and where; a 5xx keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
