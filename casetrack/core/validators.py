"""Pure checks of values people type (resident ID numbers, phone numbers), shared by every
domain: no app, no database."""

from __future__ import annotations

import datetime as dt
import re

from casetrack.core.i18n import N_
from casetrack.core.normalize import normalize_id_number, normalize_phone

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


def id_check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str | None:
    """An error message (a Chinese ``Msgid``), or None when ``value`` is a valid
    18-character ID (after ``normalize_id_number``: full-width digits are digits, x is X)."""
    value = normalize_id_number(value)
    if not _ID_RE.match(value):
        return N_("身份证号码应为18位，前17位为数字，最后一位为数字或X")
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return N_("身份证号码中的出生日期无效")
    if id_check_digit(value[:17]) != value[17]:
        return N_("身份证号码校验位不正确")
    return None


def mask_id_number(value: str | None) -> str:
    """440882********123X: first six and last four characters."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE_RE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")


def validate_phone(value: str) -> str | None:
    """11-digit mobile number or area code + number; None when valid."""
    v = normalize_phone(value)
    if _MOBILE_RE.match(v) or _LANDLINE_RE.match(v):
        return None
    return N_("电话号码应为11位手机号码，或区号加电话号码（如0759-8888888）")
