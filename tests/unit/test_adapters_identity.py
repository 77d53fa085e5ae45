from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.identity import Located, NotLocated, SandboxIdentityVerifier

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
SSN_LAST4 = "7395"


def verifier(directory: Path) -> SandboxIdentityVerifier:
    return SandboxIdentityVerifier(directory, clock=lambda: NOW)


def locate(directory: Path, last_name: str = "Doe", ssn_last4: str = SSN_LAST4):
    return verifier(directory).locate(
        "Jane",
        last_name,
        "12 Birch Road",
        "Springfield",
        "62704",
        "US",
        "+1 415 555 0123",
        date(1980, 2, 3),
        ssn_last4,
    )


def right_answers() -> dict[str, str]:
    return {"street": "12 Birch Road", "birth_year": "1980", "phone": "0123"}


def test_a_person_is_located_with_three_questions_whose_choices_hold_the_answers(
    tmp_path: Path,
) -> None:
    located = locate(tmp_path)
    assert isinstance(located, Located)
    assert [q.id for q in located.questions] == ["street", "birth_year", "phone"]
    for question in located.questions:
        assert right_answers()[question.id] in question.choices
        assert len(set(question.choices)) == 4


def test_the_questions_are_the_same_for_the_same_inputs_and_clock(tmp_path: Path) -> None:
    assert locate(tmp_path / "a") == locate(tmp_path / "b")


def test_ssn_0000_is_not_located_and_scores_fail(tmp_path: Path) -> None:
    assert isinstance(locate(tmp_path, ssn_last4="0000"), NotLocated)
    assert verifier(tmp_path).score("EXP-UNKNOWN", right_answers()) == "fail"


@pytest.mark.parametrize(
    ("wrong", "outcome"),
    [(set(), "pass"), ({"phone"}, "partial"), ({"phone", "street"}, "fail")],
)
def test_all_right_passes_one_wrong_is_partial_and_more_fail(
    tmp_path: Path, wrong: set[str], outcome: str
) -> None:
    located = locate(tmp_path)
    assert isinstance(located, Located)
    answers = {
        question.id: next(c for c in question.choices if c != right_answers()[question.id])
        if question.id in wrong
        else right_answers()[question.id]
        for question in located.questions
    }
    assert verifier(tmp_path).score(located.reference, answers) == outcome


@pytest.mark.parametrize(("last_name", "outcome"), [("Partial", "partial"), ("FAIL", "fail")])
def test_the_demo_last_names_force_their_outcome(
    tmp_path: Path, last_name: str, outcome: str
) -> None:
    located = locate(tmp_path, last_name=last_name)
    assert isinstance(located, Located)
    assert verifier(tmp_path).score(located.reference, right_answers()) == outcome


def test_a_reference_is_scored_once_and_later_answers_change_nothing(tmp_path: Path) -> None:
    located = locate(tmp_path)
    assert isinstance(located, Located)
    assert verifier(tmp_path).score(located.reference, {}) == "fail"
    assert verifier(tmp_path).score(located.reference, right_answers()) == "fail"


def test_the_ssn_digits_never_reach_the_state_directory(tmp_path: Path) -> None:
    located = locate(tmp_path)
    assert isinstance(located, Located)
    verifier(tmp_path).score(located.reference, right_answers())
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == 2
    for path in files:
        text = path.read_text()
        # As a whole value: four digits can turn up inside a random reference.
        assert not re.search(rf"(?<![0-9A-Za-z]){SSN_LAST4}(?![0-9A-Za-z])", text)


@pytest.mark.parametrize("ssn_last4", ["123", "12345", "12a4", "", "\uff11\uff12\uff13\uff14"])
def test_ssn_last4_must_be_four_digits(tmp_path: Path, ssn_last4: str) -> None:
    with pytest.raises(ValueError, match="last four digits"):
        locate(tmp_path, ssn_last4=ssn_last4)
