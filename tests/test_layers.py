"""The house's rules that only a reading of the code shows: dependencies point one way (import-linter's
contracts in pyproject.toml), and every activity a workflow calls by name is one the worker registers
(a typo would otherwise wait, retried, until a whole-stack test happens to reach that step)."""

import ast
import subprocess
import sys
from pathlib import Path

import httpx
from temporalio import activity

import worker
from onedoor.domain.labels import NoticeKind, StepKind
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions

ROOT = Path(__file__).parent.parent
CALLS = {"execute_activity", "start_activity", "execute_local_activity", "start_local_activity"}


def test_dependencies_point_one_way():
    # In a process of its own: import-linter configures logging (dictConfig), which in this one would
    # silence every logger the suite has made so far.
    linted = subprocess.run([Path(sys.executable).parent / "lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert linted.returncode == 0, f"an import breaks a layer contract:\n{linted.stdout[-3000:]}"


def literals_passed(methods: dict[str, int], literal_only: bool = False) -> dict[str, list[str]]:
    """The values the workflows pass to these methods (name → the argument's position) → where; an
    argument that is not a literal is listed as such, unless only the literals are wanted."""
    passed: dict[str, list[str]] = {}
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
                given = node.args[methods[node.func.attr]] if len(node.args) > methods[node.func.attr] else None
                if isinstance(given, ast.Constant):
                    passed.setdefault(given.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif not literal_only:
                    passed.setdefault(f"<not a literal: {ast.unparse(given) if given else None}>", []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return passed


def names_the_workflows_call() -> dict[str, list[str]]:
    """Activity name → where a workflow calls it."""
    return literals_passed(dict.fromkeys(CALLS, 0))


def test_every_step_and_notice_kind_a_workflow_writes_has_its_chinese_label():
    """Temporal's summaries name a step by its StepKind and a notice by its NoticeKind: a kind without
    one fails the case's workflow task (and waits, retried) the first time it is written."""
    steps = literals_passed({"record": 0, "count_again": 0}, literal_only=True)
    notices = literals_passed({"tell_parties": 0, "tell": 2}, literal_only=True)
    assert len(steps) >= 10 and len(notices) >= 5, "the reading found too few calls to be a reading"
    assert {kind: where for kind, where in steps.items() if kind not in {k.value for k in StepKind}} == {}
    assert {kind: where for kind, where in notices.items() if kind not in {k.value for k in NoticeKind}} == {}


async def test_every_activity_a_workflow_calls_is_registered_by_the_worker(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'register.db'}")
    async with httpx.AsyncClient() as http:
        registered = {activity._Definition.must_from_callable(fn).name for fn in worker.activities(settings, make_sessions(make_engine(settings.register_url)), http)}
    called = names_the_workflows_call()
    assert len(called) >= 10, "the reading found too few calls to be a reading"
    assert {name: where for name, where in called.items() if name not in registered} == {}
