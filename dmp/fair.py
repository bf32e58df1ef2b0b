"""A plan's FAIR score: how much of what makes data Findable, Accessible, Interoperable and
Reusable the plan has already answered.

The rule, so that a researcher can check a score by hand:

1. A question serves the principles named by its own ``fair`` tag in the template file, else
   those of its section's ``fair`` tag (Horizon Europe's sections 2.1–2.4 are tagged F, A, I,
   R), else those its maDMP field implies (``MADMP_PRINCIPLES`` below: a licence serves
   re-use, a format interoperability, a repository findability and access, …). Questions
   with none of these do not count.
2. Only questions currently asked count: hidden by a condition, they are not asked; in a
   planned-dataset section they are asked once per planned dataset.
3. A principle's score is answered ÷ asked, as a percentage; a principle no question serves
   is reported as "not covered" by the template instead of 0 or 100.

The score measures whether the plan *says* something, not whether what it says is good;
reviewers judge the latter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dmp.answers import answers_of, is_visible
from dmp.models import Plan
from dmp.template_files import iter_questions

PRINCIPLES = {"F": "Findable", "A": "Accessible", "I": "Interoperable", "R": "Reusable"}

# maDMP fields (the part after "dataset."/"dmp.", list markers removed) and the principles
# they serve, after the FAIR principles F1–R1.3 (Wilkinson et al. 2016).
MADMP_PRINCIPLES: dict[str, str] = {
    "dataset.title": "F",
    "dataset.description": "F",
    "dataset.keyword": "F",
    "dataset.type": "F",
    "dataset.metadata.description": "FI",
    "dataset.distribution.host.title": "FA",
    "dataset.distribution.data_access": "A",
    "dataset.distribution.license.start_date": "A",
    "dataset.distribution.format": "I",
    "dataset.distribution.license.license_ref": "R",
    "dataset.data_quality_assurance": "R",
    "dataset.preservation_statement": "AR",
    "dataset.rights": "R",
}


def question_principles(question: dict[str, Any], section: dict[str, Any]) -> str:
    """The principles (a string such as "FA") one question counts towards, by the rule above."""
    if question.get("fair"):
        return "".join(question["fair"])
    if section.get("fair"):
        return "".join(section["fair"])
    return MADMP_PRINCIPLES.get(str(question.get("madmp", "")).replace("[]", ""), "")


@dataclass(frozen=True)
class Unanswered:
    question: dict[str, Any]
    block: dict[str, str] | None


@dataclass(frozen=True)
class PrincipleScore:
    letter: str
    asked: int
    answered: int
    unanswered: tuple[Unanswered, ...]

    @property
    def name(self) -> str:
        return PRINCIPLES[self.letter]

    @property
    def covered(self) -> bool:
        return self.asked > 0

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


def fair_score(plan: Plan) -> list[PrincipleScore]:
    """One score per principle, in F, A, I, R order."""
    values = {key: answer.value for key, answer in answers_of(plan).items()}
    asked = dict.fromkeys(PRINCIPLES, 0)
    answered = dict.fromkeys(PRINCIPLES, 0)
    unanswered: dict[str, list[Unanswered]] = {letter: [] for letter in PRINCIPLES}
    for question, section, repeat in iter_questions(plan.template.content):
        principles = question_principles(question, section)
        if not principles:
            continue
        for block in plan.blocks if repeat else [None]:
            block_id = block["id"] if block else ""
            if not is_visible(question, values, block_id):
                continue
            given = values.get((question["key"], block_id)) not in (None, "", [])
            for letter in principles:
                asked[letter] += 1
                answered[letter] += given
                if not given:
                    unanswered[letter].append(Unanswered(question, block))
    return [
        PrincipleScore(letter, asked[letter], answered[letter], tuple(unanswered[letter]))
        for letter in PRINCIPLES
    ]
