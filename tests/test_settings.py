"""One nested variable (ONEDOOR_CLOCKS__RED__RESPONSE__BASIS=working) changes one value: every other
value, red's shorter clocks and the office hours included, keeps its default."""

import copy
import os
import re
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from onedoor.domain.labels import Audience, ClockBasis, ClockName
from onedoor.domain.policy import Policy, Shares
from onedoor.settings import Settings

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md", ROOT / "bench" / "NOTES.md"]

# What a variable of each type is set to in the tests, as text and as read: unlike every default of
# that type, so a value the environment failed to set cannot pass for it.
SAMPLES = {
    timedelta: ("PT7M", timedelta(minutes=7)),
    int: ("4", 4),
    Decimal: ("12345", Decimal(12345)),
    ClockBasis: [("working", ClockBasis.WORKING), ("natural", ClockBasis.NATURAL)],  # defaults of both kinds: the one it is not
    Shares | None: ("0.5", [0.5]),
    time: ("07:45", time(7, 45)),
    bool: ("false", False),
    list[ClockName]: ('["response"]', [ClockName.RESPONSE]),
    list[Audience]: ('["unit"]', [Audience.UNIT]),  # every boolean policy defaults to true (ladder.breach_escalates)
}


def leaves(model: type[BaseModel], path: tuple[str, ...]):
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from leaves(field.annotation, (*path, name))
        else:
            yield (*path, name), field.annotation


# Every nested variable, walked from the models: clocks by grade × step × field, the office hours,
# grading, household and delivery.
NESTED = [
    leaf
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    for leaf in leaves(field.annotation, (name,))
]


def variable(path: tuple[str, ...]) -> str:
    return "ONEDOOR_" + "__".join(path).upper()


@pytest.fixture
def environment(monkeypatch):
    """No ONEDOOR_* variable but those a test sets (the suite's own environment may carry some)."""
    for name in list(os.environ):
        if name.startswith("ONEDOOR_"):
            monkeypatch.delenv(name)
    return monkeypatch


def read() -> Settings:
    return Settings(_env_file=None)


def with_value(dump: dict, path: tuple[str, ...], value) -> dict:
    changed = copy.deepcopy(dump)
    *parents, leaf = path
    node = changed
    for key in parents:
        node = node[key]
    node[leaf] = value
    return changed


def test_the_defaults_are_the_policys(environment):
    assert read().policy() == Policy()
    assert read().clocks.red.response.length == timedelta(hours=1)  # not ClockSet's generic 2 h


@pytest.mark.parametrize(("path", "annotation"), NESTED, ids=[variable(path) for path, _ in NESTED])
def test_one_variable_changes_one_value(environment, path, annotation):
    defaults = read().model_dump()
    samples = SAMPLES[annotation] if isinstance(SAMPLES[annotation], list) else [SAMPLES[annotation]]
    text, value = next(((text, value) for text, value in samples if with_value(defaults, path, value) != defaults), samples[0])
    assert with_value(defaults, path, value) != defaults  # the sample really differs from the default

    environment.setenv(variable(path), text)

    assert read().model_dump() == with_value(defaults, path, value)


def test_variables_of_one_rule_combine(environment):
    environment.setenv("ONEDOOR_CLOCKS__RED__RESPONSE__LENGTH", "30")
    environment.setenv("ONEDOOR_CLOCKS__RED__RESPONSE__BASIS", "working")
    clocks = read().clocks

    assert (clocks.red.response.length, clocks.red.response.basis, clocks.red.response.remind_at) == (timedelta(seconds=30), ClockBasis.WORKING, [0.75])
    assert clocks.red.feedback.length == timedelta(hours=12)


def test_the_docs_name_only_variables_that_exist():
    named = set(re.findall(r"ONEDOOR_[A-Z_]+__[A-Z0-9_]*[A-Z0-9]", " ".join(page.read_text(encoding="utf-8") for page in DOCS)))
    assert named  # the docs' examples: ONEDOOR_CLOCKS__YELLOW__RESPONSE__LENGTH, ONEDOOR_DELIVERY__OUTAGE_WINDOW, …
    assert named <= {variable(path) for path, _ in NESTED}
