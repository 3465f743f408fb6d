"""Hall configuration files: the example hall, dump/parse round trips, and every refusal."""

from __future__ import annotations

import copy
import json
import pickle
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall_server.adapters.hall_config import (
    CURRENT_VERSION,
    HallConfigError,
    default_config_path,
    dump_hall_config,
    load_hall_config,
    migrate,
    parse_hall_config,
)
from hall_server.domain.hall import (
    ITEM_ELEMENTS,
    DayHours,
    HallConfig,
    HallLevel,
    ItemType,
    RequeuePosition,
    Rules,
    TimeLimit,
)

EXAMPLE = default_config_path()

WEEKDAY_HOURS = DayHours(((time(9), time(12)), (time(13), time(17, 30))))


@pytest.fixture(scope="module")
def example() -> HallConfig:
    """The example hall, loaded once."""
    return load_hall_config(EXAMPLE)


def item_doc(code: str, category: str, item_type: str = "行政许可") -> dict[str, Any]:
    """A complete service item in the YAML schema."""
    return {
        "code": code,
        "name": "企业设立登记",
        "type": item_type,
        "category": category,
        "department": "县市场监督管理局",
        "pinyin": "qysldj",
        "legal_basis": "《中华人民共和国市场主体登记管理条例》",
        "authority_scope": "县级",
        "time_limit": {"legal_days": 3, "promised_days": 1, "note": ""},
        "procedure": ["申请", "受理", "审查", "决定"],
        "conditions": "申请材料齐全、符合法定形式",
        "materials": [
            {"name": "公司登记（备案）申请书", "originals": 1, "copies": 0, "required": True, "note": ""},
        ],
        "forms": ["公司登记（备案）申请书"],
        "fees": "不收费",
        "result": "营业执照",
        "flags": {"one_trip": True, "appointment": True, "online": True, "comprehensive_window": True},
    }


def minimal_doc() -> dict[str, Any]:
    """A small valid hall: two categories, two windows, two items."""
    return {
        "version": 1,
        "hall": {
            "code": "testhall",
            "name": "测试县政务服务中心",
            "level": "county",
            "timezone": "Asia/Shanghai",
            "region_code": "530124",
        },
        "categories": [
            {"code": "A", "name": "企业服务", "prefix": "A"},
            {"code": "B", "name": "社会事务", "prefix": "B"},
        ],
        "windows": [
            {"number": 1, "name": "一号窗", "categories": ["A"]},
            {"number": 2, "name": "二号窗", "categories": ["B", "A"]},
        ],
        "hours": {
            "weekly": {"mon": ["09:00-12:00", "13:00-17:30"], "tue": ["09:00-12:00"]},
            "holidays": ["2026-01-01"],
            "workdays": {"2026-01-04": "mon"},
        },
        "rules": {
            "recalls_before_no_show": 2,
            "tickets_per_person_per_day": 5,
            "priority_ratio": "2:1",
            "requeue_to": "tail",
            "escalate_after_s": None,
            "default_service_time_s": 300,
            "service_time_window": 20,
            "elderly_age": 60,
        },
        "items": [item_doc("XK53012400001000", "A"), item_doc("GG53012400001000", "B", "公共服务")],
    }


def write(tmp_path: Path, doc: object, name: str = "hall.yaml") -> Path:
    """Write a document (or raw text) as a YAML file and return its path."""
    path = tmp_path / name
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def refuse(tmp_path: Path, doc: object) -> HallConfigError:
    """Load a document from a file, expect a refusal that names the file, and return it."""
    path = write(tmp_path, doc)
    with pytest.raises(HallConfigError) as info:
        load_hall_config(path)
    err = info.value
    assert err.file == str(path)
    assert str(err).startswith(f"{path}: ")
    return err


def assert_refused(tmp_path: Path, doc: object, key: str, *fragments: str) -> HallConfigError:
    """The refusal names the file, this key path and a problem containing every fragment."""
    err = refuse(tmp_path, doc)
    assert err.key == key, str(err)
    assert str(err).startswith(f"{err.file}: {key}: {err.problem}"), str(err)
    for fragment in fragments:
        assert fragment in err.problem, str(err)
    return err


# --------------------------------------------------------------------------- example hall


def test_default_config_path_is_the_example_hall_in_the_repository() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository / "config" / "example-hall.yaml" == EXAMPLE
    assert EXAMPLE.is_file()


def test_example_hall_is_the_fumin_county_service_center(example: HallConfig) -> None:
    assert example.version == CURRENT_VERSION
    assert example.code == "fumin"
    assert example.name == "富民县政务服务中心"
    assert example.name_en == "Fumin County Government Service Center"
    assert example.level is HallLevel.COUNTY
    assert example.timezone == "Asia/Shanghai"
    assert example.region_code == "530124"
    assert example.notice


def test_example_hall_has_the_six_comprehensive_window_categories(example: HallConfig) -> None:
    names = {c.code: (c.name, c.prefix) for c in example.categories}
    assert names == {
        "A": ("企业服务", "A"),
        "B": ("社会事务", "B"),
        "C": ("投资审批", "C"),
        "D": ("中介服务", "D"),
        "E": ("公共资源交易", "E"),
        "F": ("综合出件", "F"),
    }
    assert all(c.name_en for c in example.categories)


def test_example_hall_has_at_least_twelve_windows_several_serving_more_than_one_category(
    example: HallConfig,
) -> None:
    assert len(example.windows) >= 12
    assert len({w.number for w in example.windows}) == len(example.windows)
    multi = [w for w in example.windows if len(w.categories) > 1]
    assert len(multi) >= 4
    assert example.window(3).categories == ("A", "C")
    assert example.window(9).categories == ("B", "F")


def test_every_example_category_is_served_by_at_least_two_windows(example: HallConfig) -> None:
    served = Counter(code for w in example.windows for code in w.categories)
    for category in example.categories:
        assert served[category.code] >= 2, category.code


def test_example_result_pickup_has_dedicated_windows_and_fallbacks(example: HallConfig) -> None:
    pickup = [w for w in example.windows if "F" in w.categories]
    dedicated = [w for w in pickup if w.categories[0] == "F"]
    fallback = [w for w in pickup if w.categories[0] != "F"]
    assert 1 <= len(dedicated) <= 2
    assert any(w.categories == ("F",) for w in dedicated)
    assert fallback


def test_example_hall_has_at_least_forty_items_spread_over_all_categories(example: HallConfig) -> None:
    assert len(example.items) >= 40
    per_category = Counter(i.category for i in example.items)
    assert set(per_category) == {c.code for c in example.categories}
    assert all(n >= 3 for n in per_category.values()), per_category


def test_every_example_item_has_all_twelve_elements_filled(example: HallConfig) -> None:
    for item in example.items:
        for key, label in ITEM_ELEMENTS:
            value = getattr(item, "item_type" if key == "type" else key)
            assert value, f"{item.code} {label} ({key}) is empty"
        assert isinstance(item.time_limit, TimeLimit)
        assert item.time_limit.note or item.time_limit.legal_days or item.time_limit.promised_days == 0
        assert all(step for step in item.procedure)
        assert all(m.name and (m.originals or m.copies) for m in item.materials), item.code
        assert item.department, item.code
        assert re.fullmatch(r"[a-z]+", item.pinyin), item.code


def test_example_items_use_each_of_the_six_item_types_at_least_twice(example: HallConfig) -> None:
    types = Counter(i.item_type for i in example.items)
    for item_type in ItemType:
        assert types[item_type] >= 2, item_type


def test_example_item_codes_are_unique_and_carry_their_type_prefix(example: HallConfig) -> None:
    prefix = {
        ItemType.LICENSING: "XK",
        ItemType.LEVY: "ZS",
        ItemType.CONFIRMATION: "QR",
        ItemType.BENEFIT: "GF",
        ItemType.OTHER_POWER: "QT",
        ItemType.PUBLIC_SERVICE: "GG",
    }
    codes = [i.code for i in example.items]
    assert len(set(codes)) == len(codes)
    for item in example.items:
        assert re.fullmatch(r"[A-Z]{2}530124\d{8}", item.code), item.code
        assert item.code.startswith(prefix[item.item_type]), item.code


def test_example_hall_opens_weekdays_and_saturday_mornings(example: HallConfig) -> None:
    monday = date(2026, 3, 2)
    assert example.hours.hours_on(monday) == WEEKDAY_HOURS
    for offset in range(5):
        assert example.hours.hours_on(monday + timedelta(days=offset)) == WEEKDAY_HOURS
    assert example.hours.hours_on(date(2026, 3, 7)) == DayHours(((time(9), time(12)),))
    assert example.hours.hours_on(date(2026, 3, 8)).periods == ()
    opened = datetime(2026, 3, 2, 9, 30, tzinfo=example.tz)
    assert example.is_open(opened)
    assert not example.is_open(opened.replace(hour=12, minute=30))


def test_example_hall_closes_on_every_day_of_the_2026_public_holidays(example: HallConfig) -> None:
    breaks = [
        (date(2026, 1, 1), 3),  # 元旦
        (date(2026, 2, 15), 9),  # 春节
        (date(2026, 4, 4), 3),  # 清明节
        (date(2026, 5, 1), 5),  # 劳动节
        (date(2026, 6, 19), 3),  # 端午节
        (date(2026, 9, 25), 3),  # 中秋节
        (date(2026, 10, 1), 7),  # 国庆节
    ]
    expected = {start + timedelta(days=n) for start, length in breaks for n in range(length)}
    assert example.hours.holidays == frozenset(expected)
    for day in expected:
        assert example.hours.hours_on(day).periods == ()


def test_example_hall_opens_full_days_on_the_2026_make_up_workdays(example: HallConfig) -> None:
    make_up = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9)}
    make_up |= {date(2026, 9, 20), date(2026, 10, 10)}
    assert set(example.hours.workdays) == make_up
    for day in make_up:
        assert day.weekday() >= 5
        assert example.hours.hours_on(day) == WEEKDAY_HOURS


def test_example_file_holds_no_id_number() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", text)


# --------------------------------------------------------------------------- round trip


def test_dump_then_parse_gives_back_the_same_config(example: HallConfig) -> None:
    assert parse_hall_config(dump_hall_config(example)) == example


def test_dump_is_plain_json(example: HallConfig) -> None:
    dumped = dump_hall_config(example)
    again = json.loads(json.dumps(dumped, ensure_ascii=False))
    assert again == dumped
    assert parse_hall_config(again, "db") == example
    assert dumped["hours"]["holidays"][0] == "2026-01-01"
    assert dumped["hours"]["workdays"]["2026-02-14"] == "mon"
    assert dumped["hours"]["weekly"]["mon"] == ["09:00-12:00", "13:00-17:30"]
    assert dumped["rules"]["priority_ratio"] == "2:1"


def test_dump_written_as_yaml_loads_back_equal(tmp_path: Path, example: HallConfig) -> None:
    path = write(tmp_path, dump_hall_config(example))
    assert load_hall_config(path) == example


def test_omitted_optional_keys_take_their_defaults() -> None:
    doc = minimal_doc()
    del doc["rules"]
    del doc["hours"]["holidays"]
    del doc["hours"]["workdays"]
    for key in ("flags", "pinyin", "department"):
        del doc["items"][0][key]
    material = doc["items"][0]["materials"][0]
    for key in ("originals", "copies", "required", "note"):
        del material[key]
    cfg = parse_hall_config(doc)
    assert cfg.rules == Rules()
    assert cfg.rules.requeue_to is RequeuePosition.TAIL
    item = cfg.items[0]
    assert (item.one_trip, item.appointment, item.online, item.comprehensive_window) == (
        True,
        True,
        False,
        True,
    )
    assert item.pinyin == ""
    assert item.department == ""
    assert (item.materials[0].originals, item.materials[0].copies, item.materials[0].required) == (0, 0, True)
    assert cfg.hours.holidays == frozenset()
    assert dict(cfg.hours.workdays) == {}


def test_parsed_values_map_onto_the_domain_types() -> None:
    cfg = parse_hall_config(minimal_doc())
    assert set(cfg.hours.weekly) == {0, 1}
    assert cfg.hours.workdays == {date(2026, 1, 4): 0}
    assert cfg.rules.priority_ratio == (2, 1)
    assert cfg.items[1].item_type is ItemType.PUBLIC_SERVICE
    assert cfg.windows[1].categories == ("B", "A")
    assert isinstance(cfg.items[0].procedure, tuple)
    assert isinstance(cfg.items[0].materials, tuple)


def test_periods_are_kept_in_time_order() -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"]["mon"] = ["13:00-17:30", "09:00-12:00"]
    cfg = parse_hall_config(doc)
    assert cfg.hours.weekly[0] == WEEKDAY_HOURS


# --------------------------------------------------------------------------- refusals


def test_unknown_key_is_refused_with_a_close_suggestion(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windws"] = doc.pop("windows")
    assert_refused(tmp_path, doc, "windws", "unknown key 'windws'", "did you mean 'windows'?")


def test_unknown_nested_key_without_a_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][1]["colour"] = "red"
    assert_refused(tmp_path, doc, "items[1].colour", "unknown key 'colour'", "allowed: code, name")


def test_missing_required_key_is_refused_with_its_key_path(tmp_path: Path) -> None:
    doc = minimal_doc()
    del doc["items"][0]["result"]
    assert_refused(tmp_path, doc, "items[0].result", "required key 'result' is missing")


def test_missing_top_level_section_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    del doc["hours"]
    assert_refused(tmp_path, doc, "hours", "required key 'hours' is missing")


def test_string_where_an_integer_is_needed_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["number"] = "2"
    assert_refused(tmp_path, doc, "windows[1].number", "expected an integer, got a string ('2')")


def test_boolean_is_not_accepted_as_an_integer(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["rules"]["recalls_before_no_show"] = True
    assert_refused(tmp_path, doc, "rules.recalls_before_no_show", "expected an integer, got a boolean (true)")


def test_integer_is_not_accepted_as_a_boolean(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["materials"][0]["required"] = 1
    assert_refused(tmp_path, doc, "items[0].materials[0].required", "expected true or false")


def test_mapping_where_a_list_is_needed_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["forms"] = {"a": 1}
    assert_refused(tmp_path, doc, "items[0].forms", "expected a list", "got a mapping")


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (("items", 0, "procedure"), "items[0].procedure"),
        (("items", 0, "materials"), "items[0].materials"),
        (("items", 0, "forms"), "items[0].forms"),
        (("windows", 0, "categories"), "windows[0].categories"),
        (("windows",), "windows"),
        (("categories",), "categories"),
        (("items",), "items"),
    ],
)
def test_empty_list_is_refused_where_at_least_one_entry_is_needed(
    tmp_path: Path, where: tuple[str | int, ...], key: str
) -> None:
    doc = minimal_doc()
    parent: Any = doc
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = []
    assert_refused(tmp_path, doc, key, "must not be empty")


def test_empty_text_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["legal_basis"] = "   "
    assert_refused(tmp_path, doc, "items[0].legal_basis", "must not be empty")


def test_duplicate_category_code_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["categories"][1]["code"] = "A"
    assert_refused(tmp_path, doc, "categories[1].code", "duplicate category code 'A'", "categories[0].code")


def test_duplicate_ticket_prefix_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["categories"][1]["prefix"] = "A"
    assert_refused(tmp_path, doc, "categories[1].prefix", "duplicate ticket prefix 'A'")


def test_duplicate_window_number_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["number"] = 1
    assert_refused(tmp_path, doc, "windows[1].number", "duplicate window number 1", "windows[0].number")


def test_window_listing_a_category_twice_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["categories"] = ["B", "B"]
    assert_refused(tmp_path, doc, "windows[1].categories[1]", "duplicate category 'B'")


def test_duplicate_item_code_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][1]["code"] = doc["items"][0]["code"]
    assert_refused(tmp_path, doc, "items[1].code", "duplicate item code 'XK53012400001000'", "items[0].code")


def test_window_naming_unknown_category_is_refused_with_its_key_path(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["categories"] = ["B", "Z"]
    err = assert_refused(tmp_path, doc, "windows[1].categories[1]")
    assert str(err).startswith(f"{err.file}: windows[1].categories[1]: unknown category 'Z' (known: A, B)")
    with pytest.raises(HallConfigError) as info:
        parse_hall_config(doc, "config/example-hall.yaml")
    assert (
        str(info.value)
        == "config/example-hall.yaml: windows[1].categories[1]: unknown category 'Z' (known: A, B)"
    )
    assert (info.value.file, info.value.key) == ("config/example-hall.yaml", "windows[1].categories[1]")
    assert info.value.problem == "unknown category 'Z' (known: A, B)"


def test_item_naming_unknown_category_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][1]["category"] = "Q"
    assert_refused(tmp_path, doc, "items[1].category", "unknown category 'Q' (known: A, B)")


def test_category_served_by_no_window_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["categories"] = ["A"]
    assert_refused(tmp_path, doc, "categories[1]", "category 'B' is served by no window")


@pytest.mark.parametrize(
    ("period", "fragment"),
    [
        ("9-12", "bad time range '9-12'"),
        ("09:00 to 12:00", "expected 'HH:MM-HH:MM'"),
        ("09:00-24:00", "hours run 00-23"),
        ("09:70-12:00", "minutes 00-59"),
        ("12:00-09:00", "must end after it starts"),
        ("09:00-09:00", "must end after it starts"),
        (540, "base-60"),
    ],
)
def test_bad_time_range_is_refused(tmp_path: Path, period: object, fragment: str) -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"]["tue"] = [period]
    assert_refused(tmp_path, doc, "hours.weekly.tue[0]", fragment)


def test_overlapping_periods_in_one_day_are_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"]["mon"] = ["09:00-12:00", "13:00-17:30", "11:30-14:00"]
    assert_refused(
        tmp_path,
        doc,
        "hours.weekly.mon[2]",
        "period '11:30-14:00' overlaps '09:00-12:00'",
        "hours.weekly.mon[0]",
    )


def test_touching_periods_are_not_overlapping() -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"]["mon"] = ["09:00-12:00", "12:00-13:00"]
    assert parse_hall_config(doc).hours.weekly[0].periods[1] == (time(12), time(13))


def test_unknown_weekday_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"]["tues"] = doc["hours"]["weekly"].pop("tue")
    assert_refused(tmp_path, doc, "hours.weekly.tues", "unknown weekday 'tues'", "did you mean 'tue'?")


def test_hall_that_is_never_open_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["weekly"] = {"mon": [], "tue": []}
    doc["hours"]["workdays"] = {}
    assert_refused(tmp_path, doc, "hours.weekly", "never open")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-02-30", "bad date '2026-02-30'"),
        ("2026-13-01", "bad date '2026-13-01'"),
        ("1 May", "expected a date YYYY-MM-DD"),
        (20260101, "expected a date YYYY-MM-DD"),
        (datetime(2026, 1, 1, 9, 0), "got a date and time"),
    ],
)
def test_bad_holiday_date_is_refused(tmp_path: Path, value: object, fragment: str) -> None:
    doc = minimal_doc()
    doc["hours"]["holidays"] = ["2026-01-01", value]
    assert_refused(tmp_path, doc, "hours.holidays[1]", fragment)


def test_bad_workday_date_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["workdays"] = {"2026-02-29": "mon"}
    assert_refused(tmp_path, doc, "hours.workdays.2026-02-29", "bad date '2026-02-29'")


def test_impossible_unquoted_yaml_date_is_refused_with_its_key_path_and_line(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal_doc(), allow_unicode=True, sort_keys=False)
    text = text.replace("- '2026-01-01'", "- 2026-02-30")
    line = text.splitlines().index("  - 2026-02-30") + 1
    err = assert_refused(tmp_path, text, "hours.holidays[0]", "bad date '2026-02-30'")
    assert err.line == line
    assert str(err).endswith(f"(line {line})")


def test_duplicate_holiday_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["holidays"] = ["2026-01-01", date(2026, 1, 1)]
    assert_refused(tmp_path, doc, "hours.holidays[1]", "duplicate holiday 2026-01-01")


def test_make_up_workday_that_is_also_a_holiday_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["workdays"] = {"2026-01-01": "mon"}
    assert_refused(tmp_path, doc, "hours.workdays.2026-01-01", "both as a holiday")


def test_make_up_workday_following_a_closed_weekday_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["workdays"] = {"2026-01-04": "sun"}
    assert_refused(tmp_path, doc, "hours.workdays.2026-01-04", "'sun'", "no opening hours")


def test_make_up_workday_naming_no_weekday_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hours"]["workdays"] = {"2026-01-04": "monday"}
    assert_refused(tmp_path, doc, "hours.workdays.2026-01-04", "unknown weekday 'monday'")


@pytest.mark.parametrize("zone", ["Asia/Kunming", "Mars/Olympus", "", "../etc/passwd"])
def test_timezone_zoneinfo_cannot_load_is_refused(tmp_path: Path, zone: str) -> None:
    doc = minimal_doc()
    doc["hall"]["timezone"] = zone
    fragment = "must not be empty" if zone == "" else f"unknown time zone {zone!r}"
    assert_refused(tmp_path, doc, "hall.timezone", fragment)


def test_level_outside_the_enum_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hall"]["level"] = "city"
    assert_refused(
        tmp_path, doc, "hall.level", "unknown level 'city'", "province, prefecture, county, township, village"
    )


def test_item_type_outside_the_enum_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["type"] = "行政处罚"
    assert_refused(tmp_path, doc, "items[0].type", "unknown item type '行政处罚'", "行政许可")


def test_requeue_position_outside_the_enum_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["rules"]["requeue_to"] = "head"
    assert_refused(tmp_path, doc, "rules.requeue_to", "unknown requeue position 'head'", "tail, original")


@pytest.mark.parametrize(
    ("ratio", "fragment"),
    [
        ("2-1", "bad ratio '2-1'"),
        ("0:1", "between 1 and 100"),
        ("2:0", "between 1 and 100"),
        ("2:1:1", "bad ratio"),
        (121, "base-60"),
        (2.5, "expected a quoted string"),
    ],
)
def test_bad_priority_ratio_is_refused(tmp_path: Path, ratio: object, fragment: str) -> None:
    doc = minimal_doc()
    doc["rules"]["priority_ratio"] = ratio
    assert_refused(tmp_path, doc, "rules.priority_ratio", fragment)


def test_unquoted_priority_ratio_in_yaml_is_refused_with_a_hint(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal_doc(), allow_unicode=True, sort_keys=False)
    text = text.replace("priority_ratio: '2:1'", "priority_ratio: 2:1")
    err = assert_refused(tmp_path, text, "rules.priority_ratio", "an integer (121)", "quotes")
    assert err.line == text.splitlines().index("  priority_ratio: 2:1") + 1


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("escalate_after_s", 30, "between 60 and 86400"),
        ("elderly_age", 0, "between 1 and 150"),
        ("tickets_per_person_per_day", 0, "between 1 and 100"),
        ("recalls_before_no_show", -1, "between 0 and 10"),
        ("default_service_time_s", 0, "between 1 and 86400"),
        ("service_time_window", 0, "between 1 and 1000"),
    ],
)
def test_out_of_range_rule_values_are_refused(tmp_path: Path, key: str, value: int, fragment: str) -> None:
    doc = minimal_doc()
    doc["rules"][key] = value
    assert_refused(tmp_path, doc, f"rules.{key}", f"{value} is out of range", fragment)


def test_unknown_rule_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["rules"]["elderly_ages"] = 65
    assert_refused(tmp_path, doc, "rules.elderly_ages", "did you mean 'elderly_age'?")


@pytest.mark.parametrize(
    ("code", "bad"), [("xk-001", "kx"), ("XK 001", " "), ("XK_001", "_"), ("事项001", "事项")]
)
def test_item_code_with_bad_characters_is_refused(tmp_path: Path, code: str, bad: str) -> None:
    doc = minimal_doc()
    doc["items"][0]["code"] = code
    assert_refused(tmp_path, doc, "items[0].code", "characters other than A-Z, 0-9 and '-'", repr(bad))


def test_item_code_longer_than_fifty_characters_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["code"] = "X" * 51
    assert_refused(tmp_path, doc, "items[0].code", "51 characters long (at most 50)")
    doc["items"][0]["code"] = "X" * 50
    assert parse_hall_config(doc).items[0].code == "X" * 50


def test_unquoted_numeric_item_code_is_refused_with_a_hint(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["code"] = 53012400001
    assert_refused(tmp_path, doc, "items[0].code", "expected a string, got an integer", "put it in quotes")


@pytest.mark.parametrize("prefix", ["a", "ABC", "A1", "Ä", "1"])
def test_ticket_prefix_that_is_not_one_or_two_uppercase_letters_is_refused(
    tmp_path: Path, prefix: str
) -> None:
    doc = minimal_doc()
    doc["categories"][0]["prefix"] = prefix
    assert_refused(tmp_path, doc, "categories[0].prefix", "must be 1 or 2 uppercase letters")


def test_two_letter_ticket_prefix_is_accepted() -> None:
    doc = minimal_doc()
    doc["categories"][0]["prefix"] = "GA"
    assert parse_hall_config(doc).categories[0].prefix == "GA"


def test_bad_category_code_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["categories"][0]["code"] = "a"
    assert_refused(tmp_path, doc, "categories[0].code", "category code 'a'")


@pytest.mark.parametrize("code", ["X", "Fumin", "fu min", "f" * 33])
def test_bad_hall_code_is_refused(tmp_path: Path, code: str) -> None:
    doc = minimal_doc()
    doc["hall"]["code"] = code
    assert_refused(tmp_path, doc, "hall.code", "2-32 characters of a-z")


def test_unquoted_region_code_is_refused_with_a_hint(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hall"]["region_code"] = 530124
    assert_refused(tmp_path, doc, "hall.region_code", "6 digits", 'quotes ("530124")')


def test_region_code_that_is_not_six_digits_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["hall"]["region_code"] = "53012"
    assert_refused(tmp_path, doc, "hall.region_code", "must be 6 digits")


def test_promised_time_limit_longer_than_the_legal_one_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["time_limit"] = {"legal_days": 3, "promised_days": 5}
    assert_refused(tmp_path, doc, "items[0].time_limit.promised_days", "longer than the legal one")


def test_negative_material_count_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["materials"][0]["copies"] = -1
    assert_refused(tmp_path, doc, "items[0].materials[0].copies", "out of range")


def test_pinyin_that_is_not_lowercase_letters_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["pinyin"] = "QYSL DJ"
    assert_refused(tmp_path, doc, "items[0].pinyin", "lowercase letters")


def test_unknown_item_flag_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["items"][0]["flags"]["one_trp"] = True
    assert_refused(tmp_path, doc, "items[0].flags.one_trp", "did you mean 'one_trip'?")


# --------------------------------------------------------------------------- versions


def test_missing_version_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    del doc["version"]
    assert_refused(tmp_path, doc, "version", "required key 'version' is missing", "version: 1")


@pytest.mark.parametrize("version", ["1", 1.0, True, None])
def test_non_integer_version_is_refused(tmp_path: Path, version: object) -> None:
    doc = minimal_doc()
    doc["version"] = version
    assert_refused(tmp_path, doc, "version", "expected an integer schema version")


def test_version_newer_than_this_program_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["version"] = CURRENT_VERSION + 1
    assert_refused(tmp_path, doc, "version", f"version {CURRENT_VERSION + 1} is newer", "upgrade OneDoor")


def test_version_zero_is_refused(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["version"] = 0
    assert_refused(tmp_path, doc, "version", "unknown version 0")


def test_migrate_brings_a_current_document_through_unchanged() -> None:
    doc = minimal_doc()
    migrated = migrate(doc, "x.yaml")
    assert migrated == doc
    assert migrated is not doc
    assert migrated["version"] == CURRENT_VERSION


# --------------------------------------------------------------------------- files and YAML


def test_missing_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(HallConfigError) as info:
        load_hall_config(path)
    assert str(info.value) == f"{path}: file not found"


def test_directory_instead_of_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HallConfigError, match="is a directory"):
        load_hall_config(tmp_path)


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("version: 1\nhall: {name: 富民县}\n".encode("gbk"))
    with pytest.raises(HallConfigError, match="not UTF-8 text"):
        load_hall_config(path)


def test_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_text("\ufeff" + yaml.safe_dump(minimal_doc(), allow_unicode=True), encoding="utf-8")
    assert load_hall_config(path).code == "testhall"


def test_yaml_syntax_error_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "version: 1\nhall:\n  code: fumin\n  name: [unclosed\ncategories: []\n"
    err = refuse(tmp_path, text)
    assert err.problem.startswith("invalid YAML: ")
    assert err.line is not None and err.line >= 4
    assert f"(line {err.line}" in str(err)


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal_doc(), allow_unicode=True, sort_keys=False)
    text = text.replace("    tue:\n", "    mon:\n")
    err = refuse(tmp_path, text)
    assert "found duplicate key 'mon'" in err.problem
    assert err.line == text.splitlines().index("    mon:", text.splitlines().index("    mon:") + 1) + 1


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    doc = minimal_doc()
    del doc["windows"]
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    text += (
        "windows:\n"
        "  - &first {number: 1, name: 一号窗, categories: [A]}\n"
        "  - <<: *first\n"
        "    number: 2\n"
        "    categories: [B, A]\n"
    )
    cfg = load_hall_config(write(tmp_path, text))
    assert [(w.number, w.name, w.categories) for w in cfg.windows] == [
        (1, "一号窗", ("A",)),
        (2, "一号窗", ("B", "A")),
    ]


@pytest.mark.parametrize(("text", "fragment"), [("", "the file is empty"), ("- 1\n- 2\n", "got a list")])
def test_document_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    err = refuse(tmp_path, text)
    assert err.key == ""
    assert fragment in err.problem


def test_validation_error_from_a_file_carries_the_yaml_line(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["windows"][1]["categories"] = ["B", "Z"]
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    lines = text.splitlines()
    err = refuse(tmp_path, text)
    assert lines[err.line - 1].strip() == "- Z"
    assert str(err).endswith(f"(line {err.line})")


def test_hall_config_error_is_a_value_error_that_survives_pickling() -> None:
    err = HallConfigError("a.yaml", "hall.code", "bad", line=3, path=("hall", "code"))
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert (again.file, again.key, again.problem, again.line, again.path) == (
        "a.yaml",
        "hall.code",
        "bad",
        3,
        ("hall", "code"),
    )
    assert str(again) == "a.yaml: hall.code: bad (line 3)"


# --------------------------------------------------------------------------- property


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a document, the root included."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


_EXAMPLE_DOC = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
_BASES: dict[str, Any] = {
    "minimal": minimal_doc(),
    "example": _EXAMPLE_DOC,
    "dumped": dump_hall_config(parse_hall_config(_EXAMPLE_DOC)),
}
_BASE_PATHS = {name: _paths(doc) for name, doc in _BASES.items()}

_WRONG_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            7,
            121,
            1.5,
            "",
            "x",
            "Z",
            "A",
            "mon",
            "2:1",
            "09:00-12:00",
            "25:00-26:00",
            "2026-02-30",
            [],
            [1],
            ["A"],
            {},
            {"x": 1},
            date(2026, 1, 1),
            datetime(2026, 1, 1, 9, 0),
        ]
    ),
    st.text(max_size=6),
    st.integers(),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> object:
    """A valid document with one key deleted, renamed, or one value replaced by a wrong one."""
    name = draw(st.sampled_from(sorted(_BASES)))
    doc = copy.deepcopy(_BASES[name])
    path = draw(st.sampled_from(_BASE_PATHS[name]))
    if not path:
        return draw(_WRONG_VALUES)
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = draw(
        st.sampled_from(
            ["delete", "replace", "rename"] if isinstance(parent, dict) else ["delete", "replace"]
        )
    )
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(_WRONG_VALUES)
    else:
        parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(last)
    return doc


@given(mutated_documents())
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
def test_random_mutations_either_parse_or_raise_hall_config_error(doc: object) -> None:
    try:
        cfg = parse_hall_config(doc, "mutated.yaml")
    except HallConfigError as err:
        assert str(err).startswith("mutated.yaml: ")
        assert err.problem
    else:
        assert parse_hall_config(dump_hall_config(cfg)) == cfg


# ---------------------------------------------------------------- 一件事 bundles


def _example_doc() -> dict:
    from hall_server.adapters.hall_config import default_config_path, dump_hall_config, load_hall_config

    return dump_hall_config(load_hall_config(default_config_path()))


@pytest.mark.parametrize(("change", "key", "problem"), [
    (lambda b, items: b.update(items=[items[0]]), "bundles[0].items", "at least two"),
    (lambda b, items: b.update(items=[items[0], "NOPE-1"]), "bundles[0].items[1]", "unknown item 'NOPE-1'"),
    (lambda b, items: b.update(items=[items[0], items[0]]), "bundles[0].items[1]", "listed twice"),
    (lambda b, items: b.update(code=items[0]), "bundles[0].code", "also an item code"),
    (lambda b, items: b.update(category="Z"), "bundles[0].category", "unknown category 'Z'"),
])
def test_a_bad_bundle_is_refused_with_its_key_path(change, key: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    from hall_server.adapters.hall_config import HallConfigError, parse_hall_config

    doc = _example_doc()
    items = [i["code"] for i in doc["items"]]
    change(doc["bundles"][0], items)
    with pytest.raises(HallConfigError) as e:
        parse_hall_config(doc, source="test.yaml")
    assert e.value.key == key and problem in str(e.value)


def test_the_example_hall_has_bundles_of_known_items() -> None:
    from hall_server.adapters.hall_config import default_config_path, load_hall_config

    cfg = load_hall_config(default_config_path())
    assert len(cfg.bundles) >= 3
    codes = {i.code for i in cfg.items}
    assert all(len(b.items) >= 2 and set(b.items) <= codes for b in cfg.bundles)
