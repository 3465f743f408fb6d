"""Identity documents: check digits (GB 11643, GB 32100) and masking for display and logs."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hall_server.domain.errors import InvalidIdNumber

# GB 11643-1999, ISO 7064 MOD 11-2: weight of position k is 2^(18-k) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: GB/T 2260 province codes, plus 81/82/83 for the Hong Kong, Macao and
# Taiwan residents' residence permits (same format and checksum since 2018).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82", "83",
    }
)  # fmt: skip

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weight of position i is 3^(i-1) mod 31.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class IdType(StrEnum):
    """Kinds of identity document an applicant presents."""

    RESIDENT_ID = "resident_id"
    USCC = "uscc"


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643 MOD 11-2)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100 mod 31)."""
    s = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - s % 31) % 31]


def birth_date_of(id_number: str) -> date:
    """The birth date encoded in positions 7-14 of a resident ID number."""
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def normalize_resident_id(raw: str, *, today: date) -> str:
    """Validate a resident ID number and return it upper-cased; raise InvalidIdNumber."""
    value = raw.strip().upper()
    # isascii(): str.isdigit() also accepts digits such as '²' that int() refuses.
    if (len(value) != 18 or not value.isascii() or not value[:17].isdigit()
            or not (value[17].isdigit() or value[17] == "X")):
        raise InvalidIdNumber("身份证号码应为18位（最后一位可为X）。A resident ID number has 18 characters.")
    if value[:2] not in PROVINCE_CODES:
        raise InvalidIdNumber("身份证号码的地区码无效。The region code of the ID number is not valid.")
    try:
        born = birth_date_of(value)
    except ValueError:
        raise InvalidIdNumber("身份证号码中的出生日期无效。The birth date in the ID number is impossible.")
    if born > today or born.year < 1880:
        raise InvalidIdNumber("身份证号码中的出生日期无效。The birth date in the ID number is impossible.")
    if resident_id_check_char(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号码校验位错误，请核对。The check digit of the ID number is wrong.")
    return value


@dataclass(frozen=True)
class UsccCheck:
    """A normalised credit code and whether its check character verified."""

    value: str
    check_ok: bool


def normalize_uscc(raw: str) -> UsccCheck:
    """Validate the shape of a unified social credit code; report the check separately.

    Some lawful pre-2015 pilot codes fail the position-18 check (gov-standards.md 4.2), so
    a failed check is reported, not raised: the caller decides whether it may be overridden.
    """
    value = raw.strip().upper()
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        raise InvalidIdNumber(
            "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）。"
            "A unified social credit code has 18 digits or capital letters."
        )
    return UsccCheck(value, uscc_check_char(value[:17]) == value[17])


def mask_id_number(value: str) -> str:
    """Mask an ID number for display: first 4 and last 4 kept (`5301**********1234`)."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    """Mask a person's name: the first character kept (`张*`, `欧阳**` keeps `欧`)."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def applicant_key(secret: bytes, id_type: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256) linking visits of one person without storing the number.

    A plain hash of an ID number is brute-forceable (about 10^11 candidates), hence the key.
    """
    return hmac.new(secret, f"{id_type}:{value}".encode(), hashlib.sha256).hexdigest()
