"""Office hours: a weekly window in a time zone, and the scaling schedule's cron expressions for it."""

from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
OFFICE_HOURS = re.compile(r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*"
                          r"(?P<end>\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class OfficeHours:
    """A weekly window (e.g. Mon-Fri 08:00-19:00) in an IANA time zone; the dashboard runs only inside it."""

    first_day: str
    last_day: str
    start: tuple[int, int]
    end: tuple[int, int]
    time_zone: str

    @property
    def days(self) -> int:
        return WEEKDAYS.index(self.last_day) - WEEKDAYS.index(self.first_day) + 1

    @property
    def hours_per_week(self) -> float:
        return self.days * ((self.end[0] - self.start[0]) + (self.end[1] - self.start[1]) / 60)

    def _cron(self, at: tuple[int, int]) -> str:
        days = self.first_day if self.days == 1 else f"{self.first_day}-{self.last_day}"
        return f"cron({at[1]} {at[0]} ? * {days} *)"

    @property
    def open_cron(self) -> str:
        """Application Auto Scaling cron (minutes hours day-of-month month day-of-week year) at opening."""
        return self._cron(self.start)

    @property
    def close_cron(self) -> str:
        return self._cron(self.end)
