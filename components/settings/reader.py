"""Reading raw config values: typed getters that raise `ConfigError` naming the key and what is allowed."""

from __future__ import annotations

import ipaddress
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from components.settings.limits import APPS, NAMESPACE, USER_NAME
from components.settings.office_hours import OFFICE_HOURS, WEEKDAYS, OfficeHours


class ConfigError(pulumi.RunError, ValueError):
    """A stack config value the program refuses; the message names the key and what is allowed."""


ConfigSource = Mapping[str, Any]


class PulumiConfigSource(Mapping[str, Any]):
    """The running stack's config as a read-only mapping of short key -> raw value."""

    def __getitem__(self, key: str) -> Any:
        value = pulumi.runtime.get_config(f"{NAMESPACE}:{key}")
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self):  # only lookups are needed
        return iter(())

    def __len__(self) -> int:
        return 0

    def is_secret(self, key: str) -> bool:
        return pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")


class Reader:
    """Typed getters over raw config values."""

    def __init__(self, source: ConfigSource) -> None:
        self.source = source

    def _raw(self, key: str) -> Any:
        try:
            return self.source[key]
        except KeyError:
            raise ConfigError(
                f"{NAMESPACE}:{key} is not set. Pulumi.yaml declares its default; use Pulumi CLI 3.44 or "
                f"newer, or `pulumi config set {key} <value>`"
            ) from None

    def _fail(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(f"{NAMESPACE}:{key}: {value!r} is not {expected}")

    def string(self, key: str) -> str:
        value = self._raw(key)
        if not isinstance(value, str):
            raise self._fail(key, value, "a string")
        return value.strip()

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self._fail(key, value, f"one of {', '.join(allowed)}")
        return value

    def integer(self, key: str, minimum: int, maximum: int) -> int:
        value = self._raw(key)
        whole = (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value))
        )
        if not whole:
            raise self._fail(key, value, "a whole number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise self._fail(key, number, f"between {minimum} and {maximum}")
        return number

    def choice_int(self, key: str, allowed: tuple[int, ...]) -> int:
        number = self.integer(key, min(allowed), max(allowed))
        if number not in allowed:
            raise self._fail(key, number, f"one of {', '.join(map(str, allowed))}")
        return number

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise self._fail(key, value, "true or false")
        return text == "true"

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError:
                raise self._fail(key, value, "a list (JSON array) of strings") from None
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self._fail(key, value, "a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def cidrs(self, key: str) -> tuple[str, ...]:
        values = self.strings(key)
        if not values:
            raise self._fail(key, list(values), "a non-empty list of CIDR blocks (e.g. [\"203.0.113.0/24\"])")
        for value in values:
            try:
                ipaddress.ip_network(value, strict=True)
            except ValueError as error:
                raise ConfigError(f"{NAMESPACE}:{key}: {value!r} is not a CIDR block ({error})") from None
        return values

    def user_names(self, key: str) -> tuple[str, ...]:
        users = self.strings(key)
        if not users:
            raise self._fail(key, [], "a non-empty list of user names")
        for user in users:
            if not USER_NAME.match(user):
                raise self._fail(key, user, "a user name of 1-64 letters, digits or _.@-")
        if len(set(users)) != len(users):
            raise self._fail(key, list(users), "a list without repeated names")
        return users

    def apps(self, key: str) -> tuple[str, ...]:
        values = self.strings(key)
        for value in values:
            if value not in APPS:
                raise self._fail(key, value, f"an app name ({', '.join(APPS)})")
        return values

    def office_hours(self, key: str, zone_key: str) -> OfficeHours | None:
        """`Mon-Fri 08:00-19:00` (one day or a day range, start before end) in the zone `zone_key` names."""
        value = self.string(key)
        zone = self.string(zone_key)
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self._fail(zone_key, zone, "an IANA time zone such as UTC or Europe/Berlin") from None
        if not value:
            return None
        expected = "a weekly window such as 'Mon-Fri 08:00-19:00' (days Mon..Sun, 24-hour times, start before end)"
        match = OFFICE_HOURS.match(value)
        if not match:
            raise self._fail(key, value, expected)
        first, _, last = match["days"].replace(" ", "").upper().partition("-")
        last = last or first
        times = [tuple(int(part) for part in match[name].split(":")) for name in ("start", "end")]
        if (first not in WEEKDAYS or last not in WEEKDAYS or WEEKDAYS.index(first) > WEEKDAYS.index(last)
                or any(h > 23 or m > 59 for h, m in times) or times[0] >= times[1]):
            raise self._fail(key, value, expected)
        return OfficeHours(first, last, times[0], times[1], zone)  # type: ignore[arg-type]

    def passwords(self, key: str) -> dict[str, str]:
        value = self.string(key)
        if not value:
            return {}
        # Never echo the value: it holds passwords.
        is_secret: Callable[[str], bool] = getattr(self.source, "is_secret", lambda _key: True)
        if not is_secret(key):
            raise ConfigError(f"{NAMESPACE}:{key} holds passwords: set it with "
                              f"`pulumi config set --secret {key} '{{\"user\": \"password\"}}'`")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) >= 8 for k, v in parsed.items()
        ):
            raise ConfigError(f"{NAMESPACE}:{key}: expected a JSON object of user name to password "
                              f"(8 characters or more), e.g. '{{\"alice\": \"...\"}}'")
        return parsed
