"""Identity verification by a credit bureau (Experian-like): locate a person, then quiz them.

`locate` looks the person up and returns three multiple-choice questions; `score` marks the
answers. The last four SSN digits are used in memory only and never stored: the sandbox keeps
just each reference's correct answers (`<directory>/references/<reference>.json`) and its
score (`<directory>/scores/<reference>.json`). A reference is scored once: like a bureau
session, later calls return the first score.

Sandbox test inputs:
- SSN last four `0000`: not located. Anything else: located.
- The questions ask for the street given, the year of birth given and the last four digits of
  the phone number given, each among decoys chosen deterministically from the inputs and the
  clock. All right: `pass`; exactly one wrong: `partial`; more: `fail`; unknown
  reference: `fail`.
- Last name `Partial` always scores `partial`, last name `Fail` always `fail` (any letter
  case; for demos).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from adapters.common import Clock, as_utc, derive_id, require_text, utcnow
from adapters.messaging import validate_e164
from adapters.store import JsonFileStore

Score = Literal["pass", "partial", "fail"]

NOT_LOCATED_SSN = "0000"
FORCED_SCORES: dict[str, Score] = {"partial": "partial", "fail": "fail"}

_DECOY_STREETS = (
    "Maple Avenue",
    "Oak Street",
    "Elm Drive",
    "Cedar Lane",
    "Washington Boulevard",
    "Lakeview Road",
    "Park Place",
    "Hillcrest Court",
)
_YEAR_OFFSETS = (-6, -4, -3, -2, 2, 3, 5)
_QUESTIONS = (
    ("street", "Which of these streets have you lived on?"),
    ("birth_year", "In which year were you born?"),
    ("phone", "Which are the last four digits of your phone number?"),
)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Located:
    reference: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class NotLocated:
    reason: str


class IdentityVerifier(Protocol):
    def locate(
        self,
        first_name: str,
        last_name: str,
        street: str,
        city: str,
        postal_code: str,
        country: str,
        phone: str,
        date_of_birth: date | str,
        ssn_last4: str,
    ) -> Located | NotLocated: ...

    def score(self, reference: str, answers: dict[str, str]) -> Score: ...


def _questions(answers: dict[str, str], rng: random.Random) -> tuple[Question, ...]:
    year = int(answers["birth_year"])
    streets = [
        name for name in _DECOY_STREETS if name.casefold() not in answers["street"].casefold()
    ]
    endings = (f"{n:04d}" for n in rng.sample(range(10000), 4))
    decoys = {
        "street": [f"{rng.randint(2, 999)} {name}" for name in rng.sample(streets, 3)],
        "birth_year": [str(year + offset) for offset in rng.sample(_YEAR_OFFSETS, 3)],
        "phone": [ending for ending in endings if ending != answers["phone"]][:3],
    }
    questions = []
    for question_id, text in _QUESTIONS:
        choices = [answers[question_id], *decoys[question_id]]
        rng.shuffle(choices)
        questions.append(Question(question_id, text, tuple(choices)))
    return tuple(questions)


def _birth_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise ValueError("date_of_birth must be a date (YYYY-MM-DD)") from None


class SandboxIdentityVerifier:
    def __init__(self, directory: Path, clock: Clock = utcnow) -> None:
        self._references = JsonFileStore(Path(directory) / "references")
        self._scores = JsonFileStore(Path(directory) / "scores")
        self._clock = clock

    def locate(
        self,
        first_name: str,
        last_name: str,
        street: str,
        city: str,
        postal_code: str,
        country: str,
        phone: str,
        date_of_birth: date | str,
        ssn_last4: str,
    ) -> Located | NotLocated:
        if not (isinstance(ssn_last4, str) and re.fullmatch(r"[0-9]{4}", ssn_last4)):
            raise ValueError("Enter the last four digits of the Social Security number.")
        born = _birth_date(date_of_birth)
        last = require_text(last_name, "last_name")
        number = validate_e164(phone)
        answers = {
            "street": require_text(street, "street"),
            "birth_year": str(born.year),
            "phone": number[-4:],
        }
        person = [
            require_text(first_name, "first_name"),
            last,
            answers["street"],
            require_text(city, "city"),
            require_text(postal_code, "postal_code"),
            require_text(country, "country"),
            number,
            born.isoformat(),
        ]
        if ssn_last4 == NOT_LOCATED_SSN:
            return NotLocated("No credit file matches the details given.")
        # The SSN digits take no part in the reference or the questions: nothing derived
        # from them may reach the disk.
        seed = "\0".join([*person, as_utc(self._clock()).isoformat()])
        reference = "EXP-" + derive_id("identity", seed, 20).upper()
        questions = _questions(answers, random.Random(reference))
        self._references.create(
            reference, {"answers": answers, "forced": FORCED_SCORES.get(last.casefold())}
        )
        return Located(reference, questions)

    def score(self, reference: str, answers: dict[str, str]) -> Score:
        known = self._scores.get(reference)
        if known is not None:
            score: Score = known["score"]
            return score
        expected = self._references.get(reference)
        if expected is None:
            return "fail"
        wrong = sum(
            str(answers.get(question, "")).strip() != answer
            for question, answer in expected["answers"].items()
        )
        outcome: Score = expected["forced"] or (
            "pass" if wrong == 0 else "partial" if wrong == 1 else "fail"
        )
        stored: Score = self._scores.create(reference, {"score": outcome})["score"]
        return stored
