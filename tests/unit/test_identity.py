"""Check characters (GB 11643 resident ID, GB 32100 credit code), masking and keyed applicant tokens.

Only the standards' published sample values (gov-standards.md section 4) appear literally;
every other ID number is generated here, with its check character computed independently
of the code under test.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.errors import InvalidIdNumber
from hall_server.domain.identity import (
    USCC_CHARS,
    applicant_key,
    mask_id_number,
    mask_name,
    normalize_resident_id,
    normalize_uscc,
    resident_id_check_char,
    uscc_check_char,
)

TODAY = date(2026, 11, 29)

# GB 11643 samples (gov-standards.md 4.1); the last one is the fictional Yunnan test value.
STANDARD_RESIDENT_IDS = ["11010519491231002X", "440524188001010014", "530102199003071238"]
# GB 32100 sample and the real codes gov-standards.md 4.2 lists as checking out.
VALID_USCC = ["91350100M000100Y43", "91120222MA06DG3067", "91110108795101314G", "9135010557098120XJ"]
# Lawful pre-2015 pilot codes that fail the position-18 check (gov-standards.md 4.2).
LEGACY_USCC = ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"]

# GB/T 2260 province-level codes, plus 81/82/83 (HK, Macao, Taiwan residence permits).
PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
)  # fmt: skip
NOT_PROVINCES = (
    "00",
    "10",
    "16",
    "20",
    "24",
    "30",
    "38",
    "40",
    "47",
    "55",
    "60",
    "66",
    "70",
    "80",
    "84",
    "99",
)

# ------------------------------------------------------------------ independent reference algorithms


def iso7064_mod11_2(first17: str) -> str:
    """Check character per GB 11643: (12 - S mod 11) mod 11 with W_k = 2^(18-k) mod 11; 10 is X."""
    s = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - s % 11) % 11
    return "X" if value == 10 else str(value)


GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def gb32100_check(first17: str) -> str:
    s = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True))
    c = 31 - s % 31
    return USCC_CHARS[0 if c == 31 else c]


def make_id(region6: str, born: date | str, seq3: str) -> str:
    """A resident ID number with a correct check character (the date may be impossible)."""
    ymd = born if isinstance(born, str) else born.strftime("%Y%m%d")
    first17 = f"{region6}{ymd}{seq3}"
    return first17 + iso7064_mod11_2(first17)


resident_ids = st.builds(
    make_id,
    region6=st.tuples(st.sampled_from(PROVINCES), st.integers(0, 9999)).map(lambda t: f"{t[0]}{t[1]:04d}"),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq3=st.integers(0, 999).map(lambda n: f"{n:03d}"),
)
uscc_bodies = st.text(alphabet=USCC_CHARS, min_size=17, max_size=17)


def refuse(raw: str) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as exc:
        normalize_resident_id(raw, today=TODAY)
    assert exc.value.code == "invalid_id_number"
    assert exc.value.status == 422
    return exc.value


# ------------------------------------------------------------------ resident ID: worked examples


def test_standard_sample_with_x_check_character():
    assert resident_id_check_char("11010519491231002") == "X"
    assert normalize_resident_id("11010519491231002X", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize("value", STANDARD_RESIDENT_IDS)
def test_standard_samples_pass(value):
    assert resident_id_check_char(value[:17]) == value[17] == iso7064_mod11_2(value[:17])
    assert normalize_resident_id(value, today=TODAY) == value


def test_weights_of_the_standard_give_the_documented_sums():
    # gov-standards.md 4.1: S = 167 for the first sample, 195 for the second, 224 for Yunnan's
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    assert weights == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    sums = [sum(int(d) * w for d, w in zip(v[:17], weights, strict=True)) for v in STANDARD_RESIDENT_IDS]
    assert sums == [167, 195, 224]


def test_lowercase_x_is_accepted_and_upper_cased():
    assert normalize_resident_id("11010519491231002x", today=TODAY) == "11010519491231002X"


def test_surrounding_spaces_are_ignored():
    assert normalize_resident_id(" 440524188001010014\n", today=TODAY) == "440524188001010014"


def test_birth_today_is_accepted():
    value = make_id("530102", TODAY, "015")
    assert normalize_resident_id(value, today=TODAY) == value


# ------------------------------------------------------------------ resident ID: refusals


@pytest.mark.parametrize("value", ["1101051949123100", "11010519491231002", "11010519491231002X1", ""])
def test_wrong_length_is_refused(value):
    assert "18" in refuse(value).detail


@pytest.mark.parametrize("value", ["1101051949123100AX", "11010519491231002Y", "11010519491231002*"])
def test_letters_outside_the_check_position_are_refused(value):
    refuse(value)


@pytest.mark.parametrize("province", NOT_PROVINCES)
def test_a_number_outside_every_province_is_refused(province):
    assert "地区码" in refuse(make_id(f"{province}0102", date(1990, 3, 7), "123")).detail


@pytest.mark.parametrize("ymd", ["19900230", "20230229", "19901301", "19900100", "19900431", "00000101"])
def test_an_impossible_birth_date_is_refused(ymd):
    assert "出生日期" in refuse(make_id("530102", ymd, "123")).detail


def test_a_leap_day_birth_date_is_accepted():
    value = make_id("530102", "20000229", "123")
    assert normalize_resident_id(value, today=TODAY) == value


@pytest.mark.parametrize("born", [TODAY + timedelta(days=1), date(2030, 1, 1)])
def test_a_future_birth_date_is_refused(born):
    assert "出生日期" in refuse(make_id("530102", born, "123")).detail


def test_a_birth_year_before_1880_is_refused():
    assert "出生日期" in refuse(make_id("440524", "18791231", "001")).detail


def test_a_wrong_check_digit_is_refused():
    value = "530102199003071238"
    for wrong in "0123456789X":
        if wrong != value[17]:
            assert "校验" in refuse(value[:17] + wrong).detail


@settings(max_examples=200, deadline=None)
@given(value=resident_ids)
def test_every_generated_valid_id_passes(value):
    assert normalize_resident_id(value, today=TODAY) == value
    assert normalize_resident_id(value.lower(), today=TODAY) == value


@settings(max_examples=200, deadline=None)
@given(value=resident_ids, position=st.integers(0, 17), replacement=st.sampled_from("0123456789X"))
def test_every_single_character_change_of_a_valid_id_fails(value, position, replacement):
    if value[position] == replacement:
        replacement = "0123456789X"[("0123456789X".index(replacement) + 1) % 11]
    changed = value[:position] + replacement + value[position + 1 :]
    refuse(changed)


# ------------------------------------------------------------------ unified social credit code


def test_standard_credit_code_sample_checks_to_3():
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", VALID_USCC)
def test_real_credit_codes_pass_the_check(code):
    assert uscc_check_char(code[:17]) == code[17] == gb32100_check(code[:17])
    assert normalize_uscc(code).check_ok is True
    assert normalize_uscc(code).value == code


@pytest.mark.parametrize("code", LEGACY_USCC)
def test_legacy_pilot_codes_fail_the_check_without_being_refused(code):
    result = normalize_uscc(code)
    assert result.check_ok is False
    assert result.value == code


def test_the_first_legacy_pilot_code_computes_to_1_not_m():
    assert uscc_check_char("91350100M0001TGQX") == "1"


def test_credit_codes_are_upper_cased_and_trimmed():
    assert normalize_uscc(" 91350100m000100y43 ").value == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y4",
        "91350100M000100Y431",
        "",
        "91350100I000100Y43",
        "91350100O000100Y43",
        "91350100Z000100Y43",
        "91350100S000100Y43",
        "91350100V000100Y43",
        "9135010-M000100Y43",
    ],
)
def test_malformed_credit_codes_are_refused(code):
    with pytest.raises(InvalidIdNumber) as exc:
        normalize_uscc(code)
    assert exc.value.code == "invalid_id_number"


@settings(max_examples=200, deadline=None)
@given(body=uscc_bodies)
def test_a_credit_code_with_the_computed_check_character_passes(body):
    assert uscc_check_char(body) == gb32100_check(body)
    assert normalize_uscc(body + gb32100_check(body)).check_ok is True


@settings(max_examples=200, deadline=None)
@given(body=uscc_bodies, position=st.integers(0, 17), replacement=st.sampled_from(USCC_CHARS))
def test_every_single_character_change_of_a_credit_code_fails_the_check(body, position, replacement):
    code = body + gb32100_check(body)
    if code[position] == replacement:
        replacement = USCC_CHARS[(USCC_CHARS.index(replacement) + 1) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    assert normalize_uscc(changed).check_ok is False


# ------------------------------------------------------------------ masking


def test_an_id_number_is_masked_to_its_first_and_last_four():
    assert mask_id_number("530102199003071238") == "5301**********1238"


@settings(max_examples=100, deadline=None)
@given(value=resident_ids)
def test_a_masked_id_never_shows_the_birth_date(value):
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[:4] == value[:4] and masked[-4:] == value[-4:]
    assert masked[4:14] == "*" * 10


@pytest.mark.parametrize(
    ("value", "masked"), [("", ""), ("1234", "****"), ("12345678", "********"), ("123456789", "1234*6789")]
)
def test_short_values_are_masked_whole_or_nearly(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张", "张*"),
        ("欧阳修", "欧**"),
        ("欧阳娜娜", "欧***"),
        ("  李四 ", "李*"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_a_name_keeps_only_its_first_character(name, masked):
    assert mask_name(name) == masked


# ------------------------------------------------------------------ keyed applicant token


def test_applicant_key_is_stable_for_one_secret():
    value = make_id("530102", date(1990, 3, 7), "123")
    assert applicant_key(b"k1", "resident_id", value) == applicant_key(b"k1", "resident_id", value)


def test_applicant_key_depends_on_the_secret():
    value = make_id("530102", date(1990, 3, 7), "123")
    assert applicant_key(b"k1", "resident_id", value) != applicant_key(b"k2", "resident_id", value)


def test_applicant_key_depends_on_the_document_type():
    value = "91350100M000100Y43"
    assert applicant_key(b"k1", "uscc", value) != applicant_key(b"k1", "resident_id", value)


@settings(max_examples=100, deadline=None)
@given(value=resident_ids, secret=st.binary(min_size=16, max_size=32))
def test_applicant_key_never_contains_the_number(value, secret):
    key = applicant_key(secret, "resident_id", value)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert value not in key and value.lower() not in key
    assert value[6:14] not in key  # not even the birth date
