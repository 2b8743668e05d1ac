"""The unified social credit code (统一社会信用代码, GB 32100-2015).

The check digit is python-stdnum's; this module only insists on the canonical form,
because stdnum quietly upper-cases and strips separators, and a code stored in the
register must be exactly what is printed on the business licence.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

_CANONICAL = re.compile(r"[0-9A-Z]{18}")


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
