"""The codes Python hands the dashboard's templates; `templates/_strings.html` words each one.

tests/dashboard/test_strings.py checks that the template has words for every code here, and
no words for a code that is not.
"""

from __future__ import annotations

from typing import Literal

# The short pages: a heading and a few lines.
Page = Literal[
    "link_invalid",
    "sign_in",
    "signed_out",
    "signed_out_everywhere",
    "forbidden",
    "not_found",
    "bad_request",
    "too_large",
    "not_allowed",
    "server_error",
    "link_ended",
]
# Why a form changed nothing, shown next to its field.
Reason = Literal[
    "hhmm",
    "window",
    "weekday",
    "tips",
    "plan_week",
    "plan_last_week",
    "plan_last_needs_first",
    "plan_start_missing",
    "plan_start_date",
    "plan_empty",
    "step",
    "step_end",
    "step_days",
    "step_every",
    "step_per_week",
    "step_frequency",
    "step_partner",
    "step_partner_checkin",
    "step_overlap",
    "no_couple",
    "template_name",
    "template_taken",
    "code_format",
    "code_taken",
    "export_range",
    "not_saved",
    "wording_refused",
    "tone_unconfirmed",
]
# What a banner says was saved ("applied" also shows how many couples).
Saved = Literal[
    "schedule", "plan", "code", "template", "applied", "wording", "wording_off", "wording_restored"
]
