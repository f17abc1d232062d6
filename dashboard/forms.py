"""Reading the dashboard's forms: what was typed, checked, as the domain's changes.

A value that cannot be used raises `Invalid` with a reason *code* and the field it is about;
the words for each code are in `templates/_strings.html`, so nothing here is shown as is.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from dashboard.codes import Reason

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"[0-9]{1,4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
LAST_WEEK = 52

# The domain's reason codes (scheduler.therapy, storage.practice) the dashboard shows, each
# as the dashboard's own code; the words are in templates/_strings.html.
DOMAIN_CODES: Mapping[str, Reason] = {
    "hhmm": "hhmm",
    "window": "window",
    "weekday": "weekday",
    "tips": "tips",
    "step": "step",
    "step_end": "step_end",
    "step_days": "step_days",
    "step_every": "step_every",
    "step_per_week": "step_per_week",
    "step_frequency": "step_frequency",
    "step_partner": "step_partner",
    "step_partner_checkin": "step_partner_checkin",
    "step_overlap": "step_overlap",
    "code_format": "code_format",
    "code_taken": "code_taken",
    "template_name": "template_name",
    "template_taken": "template_taken",
    "step_wording": "wording_refused",
}
# The schedule field each of the domain's schedule reasons is about.
SCHEDULE_FIELDS: Mapping[Reason, str] = {
    "window": "nightly_window",
    "weekday": "checkin_day",
    "tips": "tips_per_week",
}
TEMPLATE_FIELDS: Mapping[Reason, str] = {"template_name": "name", "template_taken": "name"}
CODE_REASONS = frozenset({"code_format", "code_taken"})


class Invalid(Exception):
    """A form value that cannot be used: `reason` is a code, shown next to `field`."""

    def __init__(self, reason: Reason, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def domain_code(reason: str) -> Reason:
    """The dashboard's code for a reason the domain refused a change with."""
    code = DOMAIN_CODES.get(reason)
    if code is None:
        log.warning("dashboard: a refusal without a code of its own")
        return "not_saved"
    return code


def text(form: FormData, key: str) -> str:
    """A field's value, stripped; empty when missing or a file."""
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def is_number(value: str) -> bool:
    """Whether `value` is 1 to 4 ASCII digits (ids in field names, counts in the query)."""
    return _NUMBER.fullmatch(value) is not None


def number(form: FormData, key: str, reason: Reason) -> int:
    """A whole number of 1 to 4 digits, or `Invalid(reason)` for its field."""
    value = text(form, key)
    if not is_number(value):
        raise Invalid(reason, key)
    return int(value)


def time(form: FormData, key: str, *, optional: bool = False) -> str:
    """A 24-hour HH:MM time (the form's text input says so), or `Invalid` for its field."""
    value = text(form, key)
    if optional and not value:
        return value
    if not _HHMM.fullmatch(value):
        raise Invalid("hhmm", key)
    return value


def date(raw: str) -> dt.date:
    """A YYYY-MM-DD date, or ValueError."""
    if not _DATE.fullmatch(raw):
        raise ValueError(raw)
    return dt.date.fromisoformat(raw)


def form_values(form: FormData) -> dict[str, str]:
    """What the therapist typed, to show it again beside a validation message (the values
    of a field given more than once, such as ticked weekdays, joined by commas). A phase's
    own wording (`..._wording`) comes back exactly as typed, only its line endings plain."""
    values = {
        key: ",".join(v.strip() for v in form.getlist(key) if isinstance(v, str)) for key in form
    }
    for key in values:
        raw = form.get(key)
        if key.endswith("_wording") and isinstance(raw, str):
            values[key] = raw.replace("\r\n", "\n")
    return values


def schedule_changes(form: FormData) -> tuple[dict[str, Any], dict[int, str]]:
    """The schedule form as `therapy.configure` changes, plus per-partner overrides.

    Raises `Invalid` for numbers that are not numbers; times and ranges are checked by
    the domain, which gives its own reasons.
    """
    changes: dict[str, Any] = {
        "nightly_time": time(form, "nightly_time"),
        "nightly_window": number(form, "nightly_window", "window"),
        "checkin_day": number(form, "checkin_day", "weekday"),
        "checkin_time": time(form, "checkin_time"),
        "tips_per_week": number(form, "tips_per_week", "tips"),
        "tips_time": time(form, "tips_time"),
        "paused": text(form, "paused") != "",
    }
    overrides: dict[int, str] = {}
    for key in form:
        person = key.removeprefix("override_")
        if person != key and is_number(person):
            overrides[int(person)] = time(form, key, optional=True)
    return changes, overrides


def start_date(form: FormData, field: str) -> dt.date:
    """The date week 1 starts on, or `Invalid` for `field`."""
    try:
        return date(text(form, "starts_on"))
    except ValueError:
        raise Invalid("plan_start_date", field) from None


def chosen_couples(form: FormData, template_id: int) -> list[int]:
    """The couples ticked to receive a template; `Invalid` when none is."""
    chosen = [v for v in form.getlist("couple") if isinstance(v, str) and is_number(v)]
    if not chosen:
        raise Invalid("no_couple", f"couples-{template_id}")
    return [int(c) for c in chosen]
