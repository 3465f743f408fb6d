"""A hall's configuration as immutable value objects, and the rules that read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class HallLevel(StrEnum):
    """The five administrative levels a hall can sit at (省, 州市, 县, 乡, 村)."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class ItemType(StrEnum):
    """Item types of the 政务服务事项 catalogue."""

    LICENSING = "行政许可"
    LEVY = "行政征收"
    CONFIRMATION = "行政确认"
    BENEFIT = "行政给付"
    OTHER_POWER = "其他行政权力"
    PUBLIC_SERVICE = "公共服务"


class RequeuePosition(StrEnum):
    """Where a missed ticket goes when it is put back in the queue."""

    TAIL = "tail"
    ORIGINAL = "original"


# The 12 standard elements of a service item (Yunnan's 十二要素), keyed in the YAML by
# these English names. Each maps to a GB/T 39046 Table 4 field (see config/README.md).
ITEM_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("code", "编码"),
    ("name", "名称"),
    ("type", "类型"),
    ("legal_basis", "设定依据"),
    ("authority_scope", "权限范围"),
    ("time_limit", "办理时限"),
    ("procedure", "办理流程"),
    ("conditions", "办理条件"),
    ("materials", "申请材料"),
    ("forms", "申请表单"),
    ("fees", "收费标准"),
    ("result", "办理结果"),
)

PRIORITY_GROUPS: tuple[str, ...] = ("elderly", "disabled", "military", "pregnant")
GRANTING_ROLES: tuple[str, ...] = ("admin", "manager", "staff", "kiosk")


@dataclass(frozen=True)
class Category:
    """A comprehensive-window class (综合窗口类别) and its ticket prefix."""

    code: str
    name: str
    prefix: str
    name_en: str = ""


@dataclass(frozen=True)
class WindowConfig:
    """A window as configured: its number and the categories it serves, best first."""

    number: int
    name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Material:
    """One application material (申请材料) of an item."""

    name: str
    originals: int = 0
    copies: int = 0
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class TimeLimit:
    """Legal and promised completion time limits (办理时限), in working days."""

    legal_days: int
    promised_days: int
    note: str = ""


@dataclass(frozen=True)
class ServiceItem:
    """A service item (政务服务事项) with its 12 standard elements and flags."""

    code: str
    name: str
    item_type: ItemType
    category: str
    legal_basis: str
    authority_scope: str
    time_limit: TimeLimit
    procedure: tuple[str, ...]
    conditions: str
    materials: tuple[Material, ...]
    forms: tuple[str, ...]
    fees: str
    result: str
    department: str = ""
    one_trip: bool = True
    appointment: bool = True
    online: bool = False
    comprehensive_window: bool = True
    pinyin: str = ""


@dataclass(frozen=True)
class Bundle:
    """一件事: one matter made of several items across departments, one ticket, one window."""

    code: str
    name: str
    category: str
    items: tuple[str, ...]
    pinyin: str = ""


@dataclass(frozen=True)
class DayHours:
    """Opening periods of one day, e.g. 09:00-12:00 and 13:30-17:30."""

    periods: tuple[tuple[time, time], ...]

    def contains(self, t: time) -> bool:
        """True when `t` falls inside one of the periods (start inclusive, end exclusive)."""
        return any(start <= t < end for start, end in self.periods)


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours (0 = Monday), public holidays and make-up working days (调休)."""

    weekly: Mapping[int, DayHours]
    holidays: frozenset[date] = frozenset()
    workdays: Mapping[date, int] = field(default_factory=dict)

    def hours_on(self, day: date) -> DayHours:
        """The opening periods that apply on a calendar day."""
        if day in self.holidays:
            return DayHours(())
        if day in self.workdays:
            # A make-up working day follows the hours of the weekday it stands in for.
            return self.weekly.get(self.workdays[day], DayHours(()))
        return self.weekly.get(day.weekday(), DayHours(()))

    def is_open(self, local: datetime) -> bool:
        """True when the hall is open at a hall-local (naive or aware) time."""
        return self.hours_on(local.date()).contains(local.time().replace(tzinfo=None))


@dataclass(frozen=True)
class Rules:
    """Hall rules that dispatch and issuing apply."""

    recalls_before_no_show: int = 2
    tickets_per_person_per_day: int = 5
    one_open_ticket_per_category: bool = True  # anti-scalping (号贩子): no second ticket while one is open
    priority_ratio: tuple[int, int] = (2, 1)
    requeue_to: RequeuePosition = RequeuePosition.TAIL
    escalate_after_s: int | None = None
    default_service_time_s: int = 300
    service_time_window: int = 20
    elderly_age: int = 60
    evaluation_default_after_days: int = 5
    rectification_days: int = 5
    appointment_slot_minutes: int = 30
    appointment_slot_capacity: int = 4
    appointment_days_ahead: int = 7
    check_in_before_min: int = 30
    check_in_after_min: int = 15
    no_show_limit: int = 3
    no_show_window_days: int = 30
    no_show_block_days: int = 30
    # 绿色通道: which roles may put a ticket in each priority group. A kiosk records the
    # group as declared by the visitor (or, for `elderly`, as read from the ID card).
    priority_grants: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {group: GRANTING_ROLES for group in PRIORITY_GROUPS})


@dataclass(frozen=True)
class HallConfig:
    """The whole configuration of one hall, as loaded from config/*.yaml."""

    version: int
    code: str
    name: str
    level: HallLevel
    timezone: str
    region_code: str
    categories: tuple[Category, ...]
    windows: tuple[WindowConfig, ...]
    items: tuple[ServiceItem, ...]
    hours: OpeningHours
    rules: Rules
    name_en: str = ""
    notice: str = ""
    bundles: tuple[Bundle, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The hall's time zone."""
        return ZoneInfo(self.timezone)

    def category(self, code: str) -> Category | None:
        """The category with this code, if any."""
        return next((c for c in self.categories if c.code == code), None)

    def item(self, code: str) -> ServiceItem | None:
        """The service item with this code, if any."""
        return next((i for i in self.items if i.code == code), None)

    def bundle(self, code: str) -> Bundle | None:
        """The 一件事 bundle with this code, if any."""
        return next((b for b in self.bundles if b.code == code), None)

    def window(self, number: int) -> WindowConfig | None:
        """The configured window with this number, if any."""
        return next((w for w in self.windows if w.number == number), None)

    def local(self, instant: datetime) -> datetime:
        """An aware instant in the hall's time zone."""
        return instant.astimezone(self.tz)

    def is_open(self, instant: datetime, *, always_open: bool = False) -> bool:
        """True when tickets may be issued at this instant."""
        return always_open or self.hours.is_open(self.local(instant))
