"""Python hands the dashboard's templates codes; templates/_strings.html words every one."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from dashboard import forms
from dashboard.codes import Page, Reason, Saved
from dashboard.render import Templates
from scheduler import therapy
from storage.therapists import TherapistError


@pytest.fixture(scope="module")
def strings() -> Any:
    return Templates().env.get_template("_strings.html").module


def test_every_reason_code_has_a_sentence_and_no_sentence_lacks_a_code(strings: Any) -> None:
    assert set(strings.reasons) == set(get_args(Reason))
    for code, sentence in strings.reasons.items():
        assert sentence.strip() and sentence.endswith("."), code


def test_every_short_page_has_a_heading_and_lines(strings: Any) -> None:
    assert set(strings.pages) == set(get_args(Page))
    for key, page in strings.pages.items():
        assert page["heading"].strip(), key
        assert page["lines"] and all(line.endswith(".") for line in page["lines"]), key


@pytest.mark.parametrize("code", get_args(Saved))
def test_every_saved_banner_has_words(strings: Any, code: str) -> None:
    assert str(strings.saved_banner(code, 2)).strip().endswith(".")


def test_the_applied_banner_counts_one_couple_and_several(strings: Any) -> None:
    assert str(strings.saved_banner("applied", 1)) == "Plan applied to 1 couple."
    assert str(strings.saved_banner("applied", 3)) == "Plan applied to 3 couples."


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([{"kind": "nightly_appreciation", "from_week": 0}], "step"),
        ([{"kind": "no_such_practice", "from_week": 1}], "step"),
        ([{"kind": "nightly_appreciation", "from_week": 3, "to_week": 2}], "step_end"),
    ],
    ids=["week-zero", "unknown-practice", "ends-before-it-starts"],
)
def test_the_domains_plan_reasons_each_have_a_code(steps: list[dict[str, Any]], code: str) -> None:
    with pytest.raises(TherapistError) as refused:
        therapy.clean_plan(steps)
    assert forms.domain_code(refused.value.reason) == code


def test_a_domain_reason_without_a_code_gets_the_general_one() -> None:
    assert forms.domain_code("A reason the dashboard has never seen.") == "not_saved"
