"""Load, validate and migrate hall configuration files (config/*.yaml).

A hall file is YAML with a top-level ``version:``. Loading goes file -> YAML -> `migrate`
(the one place where older schema versions are upgraded) -> validation -> the frozen
dataclasses of `hall_server.domain.hall`. Every problem is a `HallConfigError` that names
the file, the key path (``windows[3].categories[1]``; list indexes count from 0) and what
is wrong; when the problem comes from a file, the YAML line is added. `dump_hall_config`
is the inverse of parsing: it gives the plain dict the server stores in its database.
The schema is documented key by key in config/README.md.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from hall_server.domain.hall import (
    GRANTING_ROLES,
    PRIORITY_GROUPS,
    Bundle,
    Category,
    DayHours,
    HallConfig,
    HallLevel,
    ItemType,
    Material,
    OpeningHours,
    RequeuePosition,
    Rules,
    ServiceItem,
    TimeLimit,
    WindowConfig,
)

__all__ = [
    "CURRENT_VERSION",
    "HallConfigError",
    "default_config_path",
    "dump_hall_config",
    "format_key_path",
    "load_hall_config",
    "migrate",
    "parse_hall_config",
]

CURRENT_VERSION = 1

KeyPath = tuple[str | int, ...]
T = TypeVar("T")

# Weekday keys of hours.weekly, in the order of date.weekday() (0 = Monday).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HALL_CODE = re.compile(r"[a-z0-9_-]{2,32}")
_REGION_CODE = re.compile(r"[0-9]{6}")  # GB/T 2260 administrative division code
_CATEGORY_CODE = re.compile(r"[A-Z][A-Z0-9]{0,15}")
_PREFIX = re.compile(r"[A-Z]{1,2}")
# gov-standards.md §2.4: item codes are opaque; check only the charset and the length.
_ITEM_CODE_CHARS = re.compile(r"[A-Z0-9-]+")
_ITEM_CODE_MAX = 50
_PINYIN = re.compile(r"[a-z]*")
_TIME_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RATIO = re.compile(r"(\d+):(\d+)")

# Inclusive bounds of the numeric rules; README.md lists the same numbers.
_RULE_BOUNDS: dict[str, tuple[int, int]] = {
    "recalls_before_no_show": (0, 10),
    "tickets_per_person_per_day": (1, 100),
    "escalate_after_s": (60, 86_400),
    "default_service_time_s": (1, 86_400),
    "service_time_window": (1, 1_000),
    "elderly_age": (1, 150),
    "evaluation_default_after_days": (1, 30),
    "rectification_days": (1, 60),
    "appointment_slot_minutes": (5, 240),
    "appointment_slot_capacity": (1, 1000),
    "appointment_days_ahead": (0, 90),
    "check_in_before_min": (0, 240),
    "check_in_after_min": (0, 240),
    "no_show_limit": (1, 100),
    "no_show_window_days": (1, 365),
    "no_show_block_days": (1, 365),
}
_APPOINTMENT_RULES = ("appointment_slot_minutes", "appointment_slot_capacity", "appointment_days_ahead",
                      "check_in_before_min", "check_in_after_min", "no_show_limit", "no_show_window_days",
                      "no_show_block_days")
_RATIO_MAX = 100
_DAYS_MAX = 3_650  # time limits, in working days
_COPIES_MAX = 99
_WINDOW_MAX = 9_999

# The item flags and their defaults when omitted (the same as ServiceItem's defaults).
_FLAG_DEFAULTS: dict[str, bool] = {
    "one_trip": True,
    "appointment": True,
    "online": False,
    "comprehensive_window": True,
}


class HallConfigError(ValueError):
    """A hall configuration is missing, unreadable or invalid; says which file, key and problem."""

    def __init__(
        self,
        file: str,
        key: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: KeyPath = (),
    ) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        self.line = line
        self.column = column
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [self.file]
        if self.key:
            parts.append(self.key)
        parts.append(self.problem)
        message = ": ".join(parts)
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")
            message += f" ({where})"
        return message

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        state = {"line": self.line, "column": self.column, "path": self.path}
        return (self.__class__, (self.file, self.key, self.problem), state)


def format_key_path(path: Sequence[str | int]) -> str:
    """Render a key path as ``windows[3].categories[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def default_config_path() -> Path:
    """The example hall shipped with the code: <repository root>/config/example-hall.yaml."""
    # hall_server/adapters/hall_config.py -> parents[2] is the folder holding hall_server/.
    return Path(__file__).resolve().parents[2] / "config" / "example-hall.yaml"


# --------------------------------------------------------------------------- migration

# Upgrades from version N to N + 1, each a function of the whole document. Version 1 is
# the first schema, so there is nothing to upgrade yet; a future version 2 adds
# `1: _v1_to_v2` here and raises CURRENT_VERSION.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate(data: object, source: str = "<config>") -> dict[str, Any]:
    """Check the document's `version` and upgrade it step by step to CURRENT_VERSION."""
    if not isinstance(data, Mapping):
        what = "the file is empty" if data is None else f"got {_describe(data)}"
        raise HallConfigError(
            source, "", f"expected a mapping with version, hall, categories, windows, hours and items; {what}"
        )
    doc = dict(data)
    if "version" not in doc:
        raise HallConfigError(
            source,
            "version",
            f"required key 'version' is missing (add 'version: {CURRENT_VERSION}' at the top of the file)",
            path=("version",),
        )
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise HallConfigError(
            source,
            "version",
            f"expected an integer schema version such as {CURRENT_VERSION}, got {_describe(version)}",
            path=("version",),
        )
    if version > CURRENT_VERSION:
        raise HallConfigError(
            source,
            "version",
            f"version {version} is newer than this OneDoor understands (at most {CURRENT_VERSION}); "
            "upgrade OneDoor to load this file",
            path=("version",),
        )
    if version < 1:
        raise HallConfigError(
            source, "version", f"unknown version {version} (versions start at 1)", path=("version",)
        )
    while version < CURRENT_VERSION:
        doc = _UPGRADES[version](doc)
        version += 1
        doc["version"] = version
    return doc


# --------------------------------------------------------------------------- loading


def load_hall_config(path: str | os.PathLike[str]) -> HallConfig:
    """Read, migrate and validate a hall configuration file."""
    source = os.fspath(path)
    try:
        # utf-8-sig: editors on office PCs often save a byte-order mark.
        text = Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HallConfigError(source, "", "file not found") from None
    except IsADirectoryError:
        raise HallConfigError(source, "", "is a directory, not a configuration file") from None
    except UnicodeDecodeError as exc:
        raise HallConfigError(source, "", f"not UTF-8 text (bad byte at offset {exc.start})") from None
    except OSError as exc:
        raise HallConfigError(source, "", f"cannot read the file: {exc.strerror or exc}") from None
    data, root = _read_yaml(text, source)
    try:
        return parse_hall_config(data, source)
    except HallConfigError as exc:
        if exc.line is None and exc.path and root is not None:
            line = _line_of(root, exc.path)
            raise HallConfigError(exc.file, exc.key, exc.problem, line=line, path=exc.path) from None
        raise


# libyaml's parser when PyYAML has it (about ten times faster); same nodes and marks.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """A safe YAML loader that refuses duplicate keys and leaves impossible dates as text."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # keys brought in by '<<' may be overridden on purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # unhashable: the base class reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {_key_repr(key)}",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime | str:
        # PyYAML raises a bare ValueError (no line, no key) for an impossible date such as
        # 2026-02-30. Keep the text instead: validation then refuses it with its key path.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return str(node.value)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _read_yaml(text: str, source: str) -> tuple[object, yaml.Node | None]:
    """Parse YAML text into plain data, keeping the node tree to find lines later."""
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.problem and exc.context != "while constructing a mapping":
            problem = f"{exc.problem} ({exc.context})"
        raise HallConfigError(
            source,
            "",
            f"invalid YAML: {problem}",
            line=mark.line + 1 if mark is not None else None,
            column=mark.column + 1 if mark is not None else None,
        ) from None
    except yaml.YAMLError as exc:
        raise HallConfigError(source, "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise HallConfigError(source, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return data, root


def _line_of(root: yaml.Node, path: KeyPath) -> int | None:
    """The 1-based line of the deepest node of `path` that the file has."""
    node = root
    line = root.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    # A scalar sits on its key's line; a block collection starts below it.
                    anchor = value_node if isinstance(value_node, yaml.ScalarNode) else key_node
                    node, line = value_node, anchor.start_mark.line + 1
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


# --------------------------------------------------------------------------- parsing


def parse_hall_config(data: object, source: str = "<config>") -> HallConfig:
    """Validate an already parsed document (after migrating it) into a HallConfig."""
    return _Parser(source).hall_config(migrate(data, source))


def _describe(value: object) -> str:
    """Say what a value is, for messages: 'a string ('abc')', 'a boolean (true)'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})" if value else "an empty string"
    if isinstance(value, datetime):
        return f"a date and time ({value.isoformat()})"
    if isinstance(value, date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _key_repr(key: object) -> str:
    """A mapping key as shown in messages."""
    if isinstance(key, date):
        return key.isoformat()
    return repr(key)


def _path_part(key: object) -> str:
    """A mapping key as a key-path element."""
    return key.isoformat() if isinstance(key, date) else str(key)


def _int_hint(value: object) -> str:
    """Explain YAML 1.1 surprises: unquoted 2:1 is the base-60 number 121."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "; YAML reads unquoted h:mm values as base-60 numbers, so put the value in quotes"
    return ""


class _Parser:
    """Validates one document; every method takes the value and its key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: KeyPath, problem: str) -> NoReturn:
        raise HallConfigError(self.source, format_key_path(path), problem, path=path)

    # ----------------------------------------------------------------- primitives

    def mapping(
        self,
        value: object,
        path: KeyPath,
        what: str,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
    ) -> Mapping[Any, Any]:
        """A mapping with exactly these keys (unknown keys refused, required keys present)."""
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping ({what}), got {_describe(value)}")
        allowed = [*required, *optional]
        for key in value:
            if key not in allowed:
                self.fail((*path, _path_part(key)), self._unknown_key(key, allowed))
        for key in required:
            if key not in value:
                self.fail((*path, key), f"required key {key!r} is missing")
        return value

    @staticmethod
    def _unknown_key(key: object, allowed: Sequence[str], noun: str = "key") -> str:
        message = f"unknown {noun} {_key_repr(key)}"
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) if isinstance(key, str) else []
        if close:
            return f"{message}; did you mean {close[0]!r}?"
        return f"{message} (allowed: {', '.join(allowed)})"

    def text(self, value: object, path: KeyPath, *, allow_empty: bool = False) -> str:
        """A string, stripped; empty only when allowed."""
        if not isinstance(value, str):
            hint = "; put it in quotes" if isinstance(value, int | float | date) else ""
            self.fail(path, f"expected a string, got {_describe(value)}{hint}")
        value = value.strip()
        if not value and not allow_empty:
            self.fail(path, "must not be empty")
        return value

    def optional_text(self, data: Mapping[Any, Any], key: str, path: KeyPath) -> str:
        """An optional string key: missing or null means ''."""
        value = data.get(key)
        return "" if value is None else self.text(value, (*path, key), allow_empty=True)

    def integer(self, value: object, path: KeyPath, minimum: int, maximum: int) -> int:
        """An integer within bounds; a boolean is not an integer."""
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, f"expected an integer, got {_describe(value)}")
        if not minimum <= value <= maximum:
            self.fail(path, f"{value} is out of range (must be between {minimum} and {maximum})")
        return value

    def boolean(self, value: object, path: KeyPath) -> bool:
        """true or false, nothing else."""
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {_describe(value)}")
        return value

    def sequence(self, value: object, path: KeyPath, what: str, *, allow_empty: bool = False) -> list[Any]:
        """A list; empty only when allowed."""
        if not isinstance(value, list | tuple):
            self.fail(path, f"expected a list ({what}), got {_describe(value)}")
        if not value and not allow_empty:
            self.fail(path, f"must not be empty: give at least one {what}")
        return list(value)

    def texts(self, value: object, path: KeyPath, what: str) -> tuple[str, ...]:
        """A non-empty list of non-empty strings."""
        items = self.sequence(value, path, what)
        return tuple(self.text(v, (*path, i)) for i, v in enumerate(items))

    def choice(self, value: object, path: KeyPath, what: str, choices: Mapping[str, T]) -> T:
        """One of a fixed set of words."""
        word = self.text(value, path)
        if word not in choices:
            close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.fail(path, f"unknown {what} {word!r} (expected one of {', '.join(choices)}){hint}")
        return choices[word]

    def day(self, value: object, path: KeyPath) -> date:
        """A calendar date: a YAML date or an ISO 'YYYY-MM-DD' string."""
        if isinstance(value, datetime):
            self.fail(path, f"expected a date YYYY-MM-DD, got {_describe(value)}")
        if isinstance(value, date):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError as exc:
                self.fail(path, f"bad date {value!r}: {exc}")
        self.fail(path, f"expected a date YYYY-MM-DD, got {_describe(value)}")

    def unique(self, seen: dict[Any, KeyPath], value: object, path: KeyPath, what: str) -> None:
        """Refuse a value already seen at another key path."""
        if value in seen:
            self.fail(path, f"duplicate {what} {_key_repr(value)} (also at {format_key_path(seen[value])})")
        seen[value] = path

    # ----------------------------------------------------------------- document

    def hall_config(self, doc: Mapping[str, Any]) -> HallConfig:
        """The whole document."""
        self.mapping(
            doc,
            (),
            "the hall configuration",
            required=("version", "hall", "categories", "windows", "hours", "items"),
            optional=("rules", "bundles"),
        )
        hall = self.hall(doc["hall"], ("hall",))
        categories = self.categories(doc["categories"], ("categories",))
        known = {c.code: c for c in categories}
        windows = self.windows(doc["windows"], ("windows",), known)
        served = {code for w in windows for code in w.categories}
        for i, category in enumerate(categories):
            if category.code not in served:
                self.fail(
                    ("categories", i),
                    f"category {category.code!r} is served by no window (add it to a window's categories)",
                )
        hours = self.hours(doc["hours"], ("hours",))
        rules = self.rules(doc.get("rules"), ("rules",))
        items = self.items(doc["items"], ("items",), known)
        bundles = self.bundles(doc.get("bundles") or [], ("bundles",), known, {i.code for i in items})
        return HallConfig(
            version=doc["version"],
            categories=categories,
            windows=windows,
            items=items,
            bundles=bundles,
            hours=hours,
            rules=rules,
            **hall,
        )

    def hall(self, value: object, path: KeyPath) -> dict[str, Any]:
        """The hall section, as HallConfig keyword arguments."""
        data = self.mapping(
            value,
            path,
            "the hall",
            required=("code", "name", "level", "timezone", "region_code"),
            optional=("name_en", "notice"),
        )
        code = self.text(data["code"], (*path, "code"))
        if not _HALL_CODE.fullmatch(code):
            self.fail(
                (*path, "code"),
                f"hall code {code!r} must be 2-32 characters of a-z, 0-9, '_' and '-'",
            )
        timezone = self.text(data["timezone"], (*path, "timezone"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.fail(
                (*path, "timezone"),
                f"unknown time zone {timezone!r} (use an IANA name such as 'Asia/Shanghai')",
            )
        region = data["region_code"]
        if isinstance(region, int) and not isinstance(region, bool):
            self.fail(
                (*path, "region_code"),
                f'expected a string of 6 digits, got {_describe(region)}; put it in quotes ("{region}")',
            )
        region = self.text(region, (*path, "region_code"))
        if not _REGION_CODE.fullmatch(region):
            self.fail((*path, "region_code"), f"region code {region!r} must be 6 digits (GB/T 2260)")
        return {
            "code": code,
            "name": self.text(data["name"], (*path, "name")),
            "name_en": self.optional_text(data, "name_en", path),
            "level": self.choice(data["level"], (*path, "level"), "level", {v.value: v for v in HallLevel}),
            "timezone": timezone,
            "region_code": region,
            "notice": self.optional_text(data, "notice", path),
        }

    def categories(self, value: object, path: KeyPath) -> tuple[Category, ...]:
        """The comprehensive-window classes."""
        out: list[Category] = []
        codes: dict[Any, KeyPath] = {}
        prefixes: dict[Any, KeyPath] = {}
        for i, raw in enumerate(self.sequence(value, path, "category")):
            at = (*path, i)
            data = self.mapping(
                raw, at, "a category", required=("code", "name", "prefix"), optional=("name_en",)
            )
            code = self.text(data["code"], (*at, "code"))
            if not _CATEGORY_CODE.fullmatch(code):
                self.fail(
                    (*at, "code"),
                    f"category code {code!r} must be 1-16 uppercase letters or digits, starting with a letter",
                )
            self.unique(codes, code, (*at, "code"), "category code")
            prefix = self.text(data["prefix"], (*at, "prefix"))
            if not _PREFIX.fullmatch(prefix):
                self.fail((*at, "prefix"), f"ticket prefix {prefix!r} must be 1 or 2 uppercase letters A-Z")
            self.unique(prefixes, prefix, (*at, "prefix"), "ticket prefix")
            out.append(
                Category(
                    code=code,
                    name=self.text(data["name"], (*at, "name")),
                    prefix=prefix,
                    name_en=self.optional_text(data, "name_en", at),
                )
            )
        return tuple(out)

    def windows(
        self, value: object, path: KeyPath, known: Mapping[str, Category]
    ) -> tuple[WindowConfig, ...]:
        """The windows and the categories each serves, best first."""
        out: list[WindowConfig] = []
        numbers: dict[Any, KeyPath] = {}
        for i, raw in enumerate(self.sequence(value, path, "window")):
            at = (*path, i)
            data = self.mapping(raw, at, "a window", required=("number", "name", "categories"))
            number = self.integer(data["number"], (*at, "number"), 1, _WINDOW_MAX)
            self.unique(numbers, number, (*at, "number"), "window number")
            served: dict[Any, KeyPath] = {}
            codes = self.texts(data["categories"], (*at, "categories"), "category code")
            for j, code in enumerate(codes):
                self.known_category(code, (*at, "categories", j), known)
                self.unique(served, code, (*at, "categories", j), "category")
            out.append(
                WindowConfig(number=number, name=self.text(data["name"], (*at, "name")), categories=codes)
            )
        return tuple(out)

    def known_category(self, code: str, path: KeyPath, known: Mapping[str, Category]) -> None:
        """Refuse a category code the hall does not define."""
        if code not in known:
            self.fail(path, f"unknown category {code!r} (known: {', '.join(known)})")

    # ----------------------------------------------------------------- hours

    def hours(self, value: object, path: KeyPath) -> OpeningHours:
        """Weekly hours, public holidays and make-up working days."""
        data = self.mapping(
            value, path, "opening hours", required=("weekly",), optional=("holidays", "workdays")
        )
        weekly = self.weekly(data["weekly"], (*path, "weekly"))

        holidays: dict[Any, KeyPath] = {}
        raw_holidays = data.get("holidays")
        if raw_holidays is not None:
            for i, raw in enumerate(
                self.sequence(raw_holidays, (*path, "holidays"), "date", allow_empty=True)
            ):
                at = (*path, "holidays", i)
                self.unique(holidays, self.day(raw, at), at, "holiday")

        workdays: dict[date, int] = {}
        raw_workdays = data.get("workdays")
        if raw_workdays is not None:
            wpath = (*path, "workdays")
            if not isinstance(raw_workdays, Mapping):
                self.fail(wpath, f"expected a mapping of date: weekday, got {_describe(raw_workdays)}")
            for raw_day, raw_weekday in raw_workdays.items():
                at = (*wpath, _path_part(raw_day))
                day = self.day(raw_day, at)
                if day in workdays:
                    self.fail(at, f"duplicate make-up working day {day.isoformat()}")
                if day in holidays:
                    self.fail(
                        at,
                        f"{day.isoformat()} is listed both as a holiday "
                        f"({format_key_path(holidays[day])}) and as a make-up working day",
                    )
                weekday = self.choice(raw_weekday, at, "weekday", {w: n for n, w in enumerate(WEEKDAYS)})
                if weekday not in weekly:
                    self.fail(
                        at,
                        f"make-up working day follows {WEEKDAYS[weekday]!r}, "
                        "which has no opening hours in hours.weekly",
                    )
                workdays[day] = weekday
        return OpeningHours(weekly=weekly, holidays=frozenset(holidays), workdays=workdays)

    def weekly(self, value: object, path: KeyPath) -> dict[int, DayHours]:
        """hours.weekly: weekday key -> list of 'HH:MM-HH:MM'; closed days are left out."""
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping of weekday: periods, got {_describe(value)}")
        weekly: dict[int, DayHours] = {}
        for key, raw in value.items():
            if key not in WEEKDAYS:
                self.fail((*path, _path_part(key)), self._unknown_key(key, WEEKDAYS, "weekday"))
            at = (*path, key)
            periods = self.sequence(raw, at, "period 'HH:MM-HH:MM'", allow_empty=True)
            parsed = [(self.period(p, (*at, i)), i) for i, p in enumerate(periods)]
            parsed.sort()
            for (prev, prev_i), (cur, cur_i) in itertools.pairwise(parsed):
                if cur[0] < prev[1]:
                    self.fail(
                        (*at, cur_i),
                        f"period {_period_text(cur)!r} overlaps {_period_text(prev)!r} ({format_key_path((*at, prev_i))})",
                    )
            if parsed:
                weekly[WEEKDAYS.index(key)] = DayHours(tuple(p for p, _ in parsed))
        if not weekly:
            self.fail(path, "the hall is never open: give opening periods for at least one weekday")
        return dict(sorted(weekly.items()))

    def period(self, value: object, path: KeyPath) -> tuple[time, time]:
        """One 'HH:MM-HH:MM' opening period, start before end."""
        if not isinstance(value, str):
            self.fail(path, f"expected a time range 'HH:MM-HH:MM', got {_describe(value)}{_int_hint(value)}")
        match = _TIME_RANGE.fullmatch(value.strip().replace(" ", ""))
        if match is None:
            self.fail(path, f"bad time range {value!r} (expected 'HH:MM-HH:MM', e.g. '09:00-12:00')")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 23 or m2 > 59:
            self.fail(path, f"bad time range {value!r}: hours run 00-23 and minutes 00-59")
        start, end = time(h1, m1), time(h2, m2)
        if end <= start:
            self.fail(path, f"bad time range {value!r}: it must end after it starts")
        return start, end

    # ----------------------------------------------------------------- rules

    def rules(self, value: object, path: KeyPath) -> Rules:
        """The hall rules; every key is optional and defaults to the Rules defaults."""
        if value is None:
            return Rules()
        data = self.mapping(
            value, path, "hall rules", optional=(*_RULE_BOUNDS, "priority_ratio", "requeue_to", "priority_grants",
                                               "one_open_ticket_per_category")
        )
        found: dict[str, Any] = {}
        for key, (low, high) in _RULE_BOUNDS.items():
            if key == "escalate_after_s" and data.get(key, None) is None:
                continue  # null turns escalation off
            if key in data:
                found[key] = self.integer(data[key], (*path, key), low, high)
        if "priority_ratio" in data:
            found["priority_ratio"] = self.ratio(data["priority_ratio"], (*path, "priority_ratio"))
        if "requeue_to" in data:
            found["requeue_to"] = self.choice(
                data["requeue_to"],
                (*path, "requeue_to"),
                "requeue position",
                {v.value: v for v in RequeuePosition},
            )
        if "priority_grants" in data:
            found["priority_grants"] = self.grants(data["priority_grants"], (*path, "priority_grants"))
        if "one_open_ticket_per_category" in data:
            found["one_open_ticket_per_category"] = self.boolean(
                data["one_open_ticket_per_category"], (*path, "one_open_ticket_per_category"))
        return Rules(**found)

    def grants(self, value: object, path: KeyPath) -> dict[str, tuple[str, ...]]:
        """priority_grants: group -> the roles that may grant it (a group left out: nobody)."""
        data = self.mapping(value, path, "priority grants", optional=PRIORITY_GROUPS)
        out: dict[str, tuple[str, ...]] = {}
        for group in PRIORITY_GROUPS:
            roles = self.sequence(data.get(group, []), (*path, group), "role", allow_empty=True)
            out[group] = tuple(
                self.choice(r, (*path, group, i), "role", {x: x for x in GRANTING_ROLES}) for i, r in enumerate(roles))
        return out

    def ratio(self, value: object, path: KeyPath) -> tuple[int, int]:
        """priority_ratio 'P:N' with 1 <= P, N <= 100."""
        if not isinstance(value, str):
            self.fail(
                path,
                f'expected a quoted string "P:N" such as "2:1", got {_describe(value)}{_int_hint(value)}',
            )
        match = _RATIO.fullmatch(value.strip().replace(" ", ""))
        if match is None:
            self.fail(path, f'bad ratio {value!r} (expected "P:N" such as "2:1")')
        p, n = int(match.group(1)), int(match.group(2))
        if not (1 <= p <= _RATIO_MAX and 1 <= n <= _RATIO_MAX):
            self.fail(path, f"bad ratio {value!r}: both numbers must be between 1 and {_RATIO_MAX}")
        return p, n

    # ----------------------------------------------------------------- items

    def items(self, value: object, path: KeyPath, known: Mapping[str, Category]) -> tuple[ServiceItem, ...]:
        """The service items with their 12 elements."""
        codes: dict[Any, KeyPath] = {}
        out: list[ServiceItem] = []
        for i, raw in enumerate(self.sequence(value, path, "service item")):
            item = self.item(raw, (*path, i), known)
            self.unique(codes, item.code, (*path, i, "code"), "item code")
            out.append(item)
        return tuple(out)

    def item(self, value: object, at: KeyPath, known: Mapping[str, Category]) -> ServiceItem:
        """One service item."""
        data = self.mapping(
            value,
            at,
            "a service item",
            required=(
                "code",
                "name",
                "type",
                "category",
                "legal_basis",
                "authority_scope",
                "time_limit",
                "procedure",
                "conditions",
                "materials",
                "forms",
                "fees",
                "result",
            ),
            optional=("department", "pinyin", "flags"),
        )
        code = self.item_code(data["code"], (*at, "code"))
        category = self.text(data["category"], (*at, "category"))
        self.known_category(category, (*at, "category"), known)
        pinyin = self.optional_text(data, "pinyin", at)
        if not _PINYIN.fullmatch(pinyin):
            self.fail(
                (*at, "pinyin"), f"pinyin {pinyin!r} must be lowercase letters a-z (the initials of the name)"
            )
        flags = self.flags(data.get("flags"), (*at, "flags"))
        return ServiceItem(
            code=code,
            name=self.text(data["name"], (*at, "name")),
            item_type=self.choice(data["type"], (*at, "type"), "item type", {v.value: v for v in ItemType}),
            category=category,
            legal_basis=self.text(data["legal_basis"], (*at, "legal_basis")),
            authority_scope=self.text(data["authority_scope"], (*at, "authority_scope")),
            time_limit=self.time_limit(data["time_limit"], (*at, "time_limit")),
            procedure=self.texts(data["procedure"], (*at, "procedure"), "procedure step"),
            conditions=self.text(data["conditions"], (*at, "conditions")),
            materials=self.materials(data["materials"], (*at, "materials")),
            forms=self.texts(data["forms"], (*at, "forms"), "form"),
            fees=self.text(data["fees"], (*at, "fees")),
            result=self.text(data["result"], (*at, "result")),
            department=self.optional_text(data, "department", at),
            pinyin=pinyin,
            **flags,
        )

    def bundles(self, value: object, path: KeyPath, known: Mapping[str, Category],
                item_codes: set[str]) -> tuple[Bundle, ...]:
        """一件事 bundles: code, name, category and at least two distinct known items."""
        codes: dict[Any, KeyPath] = {}
        out: list[Bundle] = []
        for i, raw in enumerate(self.sequence(value, path, "bundle", allow_empty=True)):
            at = (*path, i)
            data = self.mapping(raw, at, "a bundle", required=("code", "name", "category", "items"),
                                optional=("pinyin",))
            code = self.item_code(data["code"], (*at, "code"))
            self.unique(codes, code, (*at, "code"), "bundle code")
            if code in item_codes:
                self.fail((*at, "code"), f"bundle code {code!r} is also an item code")
            category = self.text(data["category"], (*at, "category"))
            if category not in known:
                self.fail((*at, "category"), f"unknown category {category!r} (known: {', '.join(known)})")
            members = self.texts(data["items"], (*at, "items"), "item code")
            if len(members) < 2:
                self.fail((*at, "items"), "a bundle (一件事) joins at least two items")
            for j, member in enumerate(members):
                if member not in item_codes:
                    self.fail((*at, "items", j), f"unknown item {member!r}")
                if members.index(member) != j:
                    self.fail((*at, "items", j), f"item {member!r} is listed twice")
            pinyin = self.optional_text(data, "pinyin", at)
            out.append(Bundle(code=code, name=self.text(data["name"], (*at, "name")), category=category,
                              items=members, pinyin=pinyin))
        return tuple(out)

    def item_code(self, value: object, path: KeyPath) -> str:
        """An opaque item code: A-Z, 0-9 and '-', at most 50 characters."""
        code = self.text(value, path)
        if len(code) > _ITEM_CODE_MAX:
            self.fail(path, f"item code is {len(code)} characters long (at most {_ITEM_CODE_MAX})")
        if not _ITEM_CODE_CHARS.fullmatch(code):
            bad = "".join(sorted({c for c in code if not _ITEM_CODE_CHARS.fullmatch(c)}))
            self.fail(path, f"item code {code!r} has characters other than A-Z, 0-9 and '-': {bad!r}")
        return code

    def time_limit(self, value: object, path: KeyPath) -> TimeLimit:
        """Legal and promised time limits in working days (0 promised = on the spot)."""
        data = self.mapping(
            value, path, "a time limit", required=("legal_days", "promised_days"), optional=("note",)
        )
        legal = self.integer(data["legal_days"], (*path, "legal_days"), 0, _DAYS_MAX)
        promised = self.integer(data["promised_days"], (*path, "promised_days"), 0, _DAYS_MAX)
        if legal and promised > legal:
            self.fail(
                (*path, "promised_days"),
                f"the promised time limit ({promised} days) is longer than the legal one ({legal} days)",
            )
        return TimeLimit(
            legal_days=legal, promised_days=promised, note=self.optional_text(data, "note", path)
        )

    def materials(self, value: object, path: KeyPath) -> tuple[Material, ...]:
        """The application materials."""
        out: list[Material] = []
        for i, raw in enumerate(self.sequence(value, path, "material")):
            at = (*path, i)
            data = self.mapping(
                raw,
                at,
                "a material",
                required=("name",),
                optional=("originals", "copies", "required", "note"),
            )
            out.append(
                Material(
                    name=self.text(data["name"], (*at, "name")),
                    originals=self.integer(data.get("originals", 0), (*at, "originals"), 0, _COPIES_MAX),
                    copies=self.integer(data.get("copies", 0), (*at, "copies"), 0, _COPIES_MAX),
                    required=self.boolean(data.get("required", True), (*at, "required")),
                    note=self.optional_text(data, "note", at),
                )
            )
        return tuple(out)

    def flags(self, value: object, path: KeyPath) -> dict[str, bool]:
        """The item's yes/no flags, defaults filled in."""
        flags = dict(_FLAG_DEFAULTS)
        if value is None:
            return flags
        data = self.mapping(value, path, "item flags", optional=tuple(_FLAG_DEFAULTS))
        for key in _FLAG_DEFAULTS:
            if key in data:
                flags[key] = self.boolean(data[key], (*path, key))
        return flags


def _period_text(period: tuple[time, time]) -> str:
    """'09:00-12:00'."""
    return f"{period[0]:%H:%M}-{period[1]:%H:%M}"


# --------------------------------------------------------------------------- dumping


def dump_hall_config(cfg: HallConfig) -> dict[str, Any]:
    """The configuration as a plain, JSON-serialisable dict in the YAML schema."""
    hours: dict[str, Any] = {
        "weekly": {
            WEEKDAYS[day]: [_period_text(p) for p in cfg.hours.weekly[day].periods]
            for day in sorted(cfg.hours.weekly)
        },
        "holidays": [d.isoformat() for d in sorted(cfg.hours.holidays)],
        "workdays": {d.isoformat(): WEEKDAYS[w] for d, w in sorted(cfg.hours.workdays.items())},
    }
    rules = cfg.rules
    return {
        "version": cfg.version,
        "hall": {
            "code": cfg.code,
            "name": cfg.name,
            "name_en": cfg.name_en,
            "level": cfg.level.value,
            "timezone": cfg.timezone,
            "region_code": cfg.region_code,
            "notice": cfg.notice,
        },
        "categories": [
            {"code": c.code, "name": c.name, "name_en": c.name_en, "prefix": c.prefix} for c in cfg.categories
        ],
        "windows": [
            {"number": w.number, "name": w.name, "categories": list(w.categories)} for w in cfg.windows
        ],
        "hours": hours,
        "rules": {
            "recalls_before_no_show": rules.recalls_before_no_show,
            "tickets_per_person_per_day": rules.tickets_per_person_per_day,
            "priority_ratio": f"{rules.priority_ratio[0]}:{rules.priority_ratio[1]}",
            "requeue_to": rules.requeue_to.value,
            "escalate_after_s": rules.escalate_after_s,
            "default_service_time_s": rules.default_service_time_s,
            "service_time_window": rules.service_time_window,
            "elderly_age": rules.elderly_age,
            "evaluation_default_after_days": rules.evaluation_default_after_days,
            "rectification_days": rules.rectification_days,
            **{key: getattr(rules, key) for key in _APPOINTMENT_RULES},
            "priority_grants": {group: list(roles) for group, roles in rules.priority_grants.items()},
            "one_open_ticket_per_category": rules.one_open_ticket_per_category,
        },
        "items": [_dump_item(item) for item in cfg.items],
        "bundles": [{"code": b.code, "name": b.name, "category": b.category, "items": list(b.items),
                     "pinyin": b.pinyin} for b in cfg.bundles],
    }


def _dump_item(item: ServiceItem) -> dict[str, Any]:
    """One service item in the YAML schema."""
    return {
        "code": item.code,
        "name": item.name,
        "type": item.item_type.value,
        "category": item.category,
        "department": item.department,
        "pinyin": item.pinyin,
        "legal_basis": item.legal_basis,
        "authority_scope": item.authority_scope,
        "time_limit": {
            "legal_days": item.time_limit.legal_days,
            "promised_days": item.time_limit.promised_days,
            "note": item.time_limit.note,
        },
        "procedure": list(item.procedure),
        "conditions": item.conditions,
        "materials": [
            {
                "name": m.name,
                "originals": m.originals,
                "copies": m.copies,
                "required": m.required,
                "note": m.note,
            }
            for m in item.materials
        ],
        "forms": list(item.forms),
        "fees": item.fees,
        "result": item.result,
        "flags": {
            "one_trip": item.one_trip,
            "appointment": item.appointment,
            "online": item.online,
            "comprehensive_window": item.comprehensive_window,
        },
    }
