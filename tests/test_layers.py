"""The house's rules that only a reading of the code shows: dependencies point one way (import-linter's
contracts in pyproject.toml), the domain and the workflows type-check (mypy), and the activities the
workflows call by name are exactly those the worker registers (a typo would otherwise wait, retried,
until a whole-stack test happens to reach that step)."""

import ast
import subprocess
import sys
from pathlib import Path

import httpx
from temporalio import activity

import worker
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions

ROOT = Path(__file__).parent.parent
CALLS = {"execute_activity", "start_activity", "execute_local_activity", "start_local_activity"}


def test_dependencies_point_one_way():
    # In a process of its own: import-linter configures logging (dictConfig), which in this one would
    # silence every logger the suite has made so far.
    linted = subprocess.run([Path(sys.executable).parent / "lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert linted.returncode == 0, f"an import breaks a layer contract:\n{linted.stdout[-3000:]}"


def test_the_domain_and_the_workflows_type_check():
    """mypy over what pyproject.toml's [tool.mypy] names (onedoor/domain, workflows/): a step or notice kind that is not
    a StepKind or NoticeKind member (so without its Chinese label), a misspelt keyword to an activity's options, a None
    where the process needs a value — each would fail a case's workflow task at run time, retried until someone looks."""
    checked = subprocess.run([Path(sys.executable).parent / "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert checked.returncode == 0, f"mypy finds errors:\n{checked.stdout[-5000:]}"


def literals_passed(methods: dict[str, int]) -> dict[str, list[str]]:
    """The values the workflows pass to these methods (name → the argument's position) → where; an
    argument that is not a literal is listed as such."""
    passed: dict[str, list[str]] = {}
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
                given = node.args[methods[node.func.attr]] if len(node.args) > methods[node.func.attr] else None
                if isinstance(given, ast.Constant):
                    passed.setdefault(given.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
                else:
                    passed.setdefault(f"<not a literal: {ast.unparse(given) if given else None}>", []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return passed


def names_the_workflows_call() -> dict[str, list[str]]:
    """Activity name → where a workflow calls it."""
    return literals_passed(dict.fromkeys(CALLS, 0))


async def test_the_activities_the_workflows_call_are_exactly_those_the_worker_registers(tmp_path):
    """A name no registered activity has waits, retried, until someone looks; a registered activity no workflow calls is dead code."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'register.db'}")
    async with httpx.AsyncClient() as http:
        registered = {activity._Definition.must_from_callable(fn).name for fn in worker.activities(settings, make_sessions(make_engine(settings.register_url)), http)}
    called = names_the_workflows_call()
    assert len(called) >= 10, "the reading found too few calls to be a reading"
    assert {name: where for name, where in called.items() if name not in registered} == {}
    assert registered - set(called) == set()
