"""Validation errors that name the field and the problem, for every boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one field of an input."""

    field: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem}

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class InvalidInput(ValueError):
    """Input refused at the boundary; carries every field problem found."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid input")

    def as_dicts(self) -> list[dict[str, str]]:
        return [p.as_dict() for p in self.problems]


NAMED_PROBLEM = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_.]*): (.+)$", re.S)


def problems_from(error: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Translate a pydantic error into field problems with dotted field paths. A check that spans
    several fields names the one at fault at the start of its message ("level: …")."""
    problems = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        named = NAMED_PROBLEM.match(item["msg"])
        if named:
            path = f"{path}.{named.group(1)}" if path else named.group(1)
            item = {**item, "msg": named.group(2)}
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        problems.append(FieldProblem(path or "(document)", item["msg"]))
    return problems
