"""Language: Simplified Chinese unless the user chose another language with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a browser set
to English would show English to tax staff who never asked for it. Here only the
language cookie (written by the switch, django.conf.urls.i18n's set_language) counts.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
