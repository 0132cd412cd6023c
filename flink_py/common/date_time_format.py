"""Java ``DateTimeFormatter`` patterns and ``ZoneId`` names, for the date-time bucket assigner.

Flink's ``DateTimeBucketAssigner`` names buckets with ``DateTimeFormatter.ofPattern(format)``
in a ``ZoneId``; PyFlink programs pass Java patterns such as ``"yyyy-MM-dd--HH"``. This module
compiles such a pattern once into a function from epoch milliseconds to text. The pattern
letters of dates and times are supported (``y u M L d D H h k K m s S n a E Z X x z VV``);
the others (week-based fields, quarters, eras, optional sections) are rejected by name.
"""

from __future__ import annotations

import datetime
import re
from typing import Callable, List, Optional

from flink_py.errors import InvalidProgramError

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

#: Java's ``ZoneId.SHORT_IDS``: the three-letter ids Java accepts with that map.
SHORT_IDS = {
    "ACT": "Australia/Darwin", "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires", "ART": "Africa/Cairo",
    "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago",
    "CTT": "Asia/Shanghai", "EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis", "IST": "Asia/Kolkata", "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia", "NET": "Asia/Yerevan", "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
    "EST": "-05:00", "MST": "-07:00", "HST": "-10:00",
}

_OFFSET = re.compile(r"^(?:(?:GMT|UTC|UT)(?=[+-])|)([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$")


def resolve_zone(zone_id: Optional[str]) -> Optional[datetime.tzinfo]:
    """The time zone of a Java zone id; None (the system's zone) for None.

    Accepts region ids (``"Europe/Berlin"``), ``"UTC"``/``"GMT"``/``"Z"``, offsets
    (``"+08:00"``, ``"GMT-08:00"``, ``"UTC+8"``) and Java's short ids (``"PST"``).
    """
    if zone_id is None:
        return None
    if not isinstance(zone_id, str):
        raise InvalidProgramError(
            f"timezone_id must be a str such as 'UTC' or 'Europe/Berlin', got "
            f"{type(zone_id).__name__} {zone_id!r}")
    name = SHORT_IDS.get(zone_id, zone_id)
    if name in ("Z", "UTC", "GMT", "UT"):
        return datetime.timezone.utc
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes, seconds = match.groups()
        delta = datetime.timedelta(hours=int(hours), minutes=int(minutes or 0),
                                   seconds=int(seconds or 0))
        if delta > datetime.timedelta(hours=18):
            raise InvalidProgramError(f"time zone offset {zone_id!r} is beyond +/-18:00")
        return datetime.timezone(-delta if sign == "-" else delta)
    try:
        import zoneinfo
        return zoneinfo.ZoneInfo(name)
    except (ValueError, LookupError, OSError):
        raise InvalidProgramError(
            f"unknown time zone id {zone_id!r} (expected a region such as 'Europe/Berlin', "
            f"'UTC', an offset such as '+08:00' or 'GMT-08:00', or a short id such as "
            f"'PST')") from None


def _offset_text(moment: datetime.datetime, count: int, letter: str) -> str:
    offset = moment.utcoffset() or datetime.timedelta(0)
    seconds = int(offset.total_seconds())
    if letter == "X" and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hours, minutes = seconds // 3600, seconds // 60 % 60
    if letter == "Z":
        if count == 4:
            return "GMT" if seconds == 0 else f"GMT{sign}{hours:02d}:{minutes:02d}"
        if count == 5:
            return "Z" if seconds == 0 else f"{sign}{hours:02d}:{minutes:02d}"
        return f"{sign}{hours:02d}{minutes:02d}"
    # X / x: 1 -> +HH[mm], 2 -> +HHmm, 3 -> +HH:mm
    if count == 1:
        return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
    if count == 2:
        return f"{sign}{hours:02d}{minutes:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def _field(letter: str, count: int, pattern: str) -> Callable[[datetime.datetime], str]:
    def number(get: Callable[[datetime.datetime], int]) -> Callable[[datetime.datetime], str]:
        return lambda m: str(get(m)).zfill(count)

    if letter in "yu":
        if count == 2:
            return lambda m: f"{m.year % 100:02d}"
        return number(lambda m: m.year)
    if letter in "ML":
        if count >= 4:
            return lambda m: _MONTHS[m.month - 1]
        if count == 3:
            return lambda m: _MONTHS[m.month - 1][:3]
        return number(lambda m: m.month)
    if letter == "E":
        if count >= 4:
            return lambda m: _DAYS[m.weekday()]
        return lambda m: _DAYS[m.weekday()][:3]
    simple = {
        "d": lambda m: m.day,
        "D": lambda m: m.timetuple().tm_yday,
        "H": lambda m: m.hour,
        "k": lambda m: m.hour or 24,
        "K": lambda m: m.hour % 12,
        "h": lambda m: m.hour % 12 or 12,
        "m": lambda m: m.minute,
        "s": lambda m: m.second,
        "n": lambda m: m.microsecond * 1000,
    }
    if letter in simple:
        return number(simple[letter])
    if letter == "S":  # fraction of the second, truncated to ``count`` digits
        return lambda m: f"{m.microsecond:06d}000"[:count].ljust(count, "0")
    if letter == "a":
        return lambda m: "AM" if m.hour < 12 else "PM"
    if letter in "ZXx":
        return lambda m: _offset_text(m, count, letter)
    if letter == "z":
        return lambda m: m.tzname() or ""
    if letter == "V" and count == 2:
        return lambda m: str(getattr(m.tzinfo, "key", None) or m.tzname() or "")
    raise InvalidProgramError(
        f"date-time pattern {pattern!r}: the pattern letter {letter!r} is not supported "
        f"(supported: y u M L d D H h k K m s S n a E Z X x z VV, quoted text in '...')")


def compile_pattern(pattern: str, zone: Optional[datetime.tzinfo]
                    ) -> Callable[[int], str]:
    """A function from epoch milliseconds to the text of ``pattern`` in ``zone``.

    ``zone`` None is the system's time zone.

    ::

        >>> import datetime
        >>> format_millis = compile_pattern("yyyy-MM-dd--HH", datetime.timezone.utc)
        >>> format_millis(0)
        '1970-01-01--00'
        >>> compile_pattern("yyyyMMdd'T'HHmmss.SSS", datetime.timezone.utc)(1_500)
        '19700101T000001.500'
    """
    if not isinstance(pattern, str):
        raise InvalidProgramError(
            f"format_str must be a str such as 'yyyy-MM-dd--HH', got "
            f"{type(pattern).__name__} {pattern!r}")
    parts: List[Callable[[datetime.datetime], str]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "'":
            if i + 1 < n and pattern[i + 1] == "'":  # '' is a quote
                parts.append(lambda m: "'")
                i += 2
                continue
            j, text = i + 1, []
            while True:
                if j >= n:
                    raise InvalidProgramError(
                        f"date-time pattern {pattern!r}: unterminated quote at position {i}")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            parts.append(lambda m, text="".join(text): text)
            i = j + 1
        elif c.isascii() and c.isalpha():
            j = i
            while j < n and pattern[j] == c:
                j += 1
            parts.append(_field(c, j - i, pattern))
            i = j
        elif c in "[]{}#":
            raise InvalidProgramError(
                f"date-time pattern {pattern!r}: {c!r} (optional sections and reserved "
                f"characters) is not supported")
        else:
            parts.append(lambda m, text=c: text)
            i += 1

    def format_millis(epoch_millis: int) -> str:
        seconds, millis = divmod(epoch_millis, 1000)
        moment = datetime.datetime.fromtimestamp(seconds, zone).replace(
            microsecond=millis * 1000)
        if zone is None:
            moment = moment.astimezone()  # aware, for the offset and zone-name letters
        return "".join([part(moment) for part in parts])

    return format_millis
