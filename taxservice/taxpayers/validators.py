"""The unified social credit code (统一社会信用代码, GB 32100-2015).

The check digit is python-stdnum's; this module only insists on the canonical form,
because stdnum quietly upper-cases and strips separators, and a code stored in the
register must be exactly what is printed on the business licence.

What a clerk types at the counter is first put into that form by
`normalise_credit_code`; the API takes the canonical form only.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

_CANONICAL = re.compile(r"[0-9A-Z]{18}")
_WHITESPACE = re.compile(r"\s+")  # Unicode: the ideographic space U+3000 and no-break spaces too
# Full-width digits and Latin letters (０-９, Ａ-Ｚ, ａ-ｚ, as a Chinese input method types them)
# to their half-width forms. Nothing else is mapped: other characters are left for the
# validator to name, rather than guessed at.
_HALF_WIDTH = {code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}


def normalise_credit_code(value: str) -> str:
    """A credit code as typed, in the canonical form where that is unambiguous.

    Removes every space (leading, trailing, inner; the full-width U+3000 too), turns
    full-width digits and letters into half-width ones and upper-cases the letters. The
    result is not validated: pass it to `validate_credit_code`.
    """
    return _WHITESPACE.sub("", value).translate(_HALF_WIDTH).upper()


def validate_credit_code(value: str) -> None:
    if not isinstance(value, str) or len(value) != 18:
        raise ValidationError(_("A unified social credit code has exactly 18 characters."), code="credit_code_length")
    if not _CANONICAL.fullmatch(value):
        raise ValidationError(
            _("A unified social credit code uses only half-width digits and upper-case letters."),
            code="credit_code_format",
        )
    try:
        uscc.validate(value)
    except InvalidChecksum:
        raise ValidationError(
            _("The check digit of this unified social credit code is wrong."), code="credit_code_checksum"
        ) from None
    except (InvalidFormat, InvalidLength):
        raise ValidationError(_("This is not a valid unified social credit code."), code="credit_code_format") from None
