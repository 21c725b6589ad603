"""The house's rules that only a reading of the code shows: dependencies point one way (import-linter's
contracts in pyproject.toml), and every activity a workflow calls by name is one the worker registers
(a typo would otherwise wait, retried, until a whole-stack test happens to reach that step)."""

import ast
from pathlib import Path

import httpx
from importlinter.cli import lint_imports
from temporalio import activity

import worker
from settings import Settings
from store.db import make_engine, make_sessions

ROOT = Path(__file__).parent.parent
CALLS = {"execute_activity", "start_activity", "execute_local_activity", "start_local_activity"}


def test_dependencies_point_one_way(monkeypatch):
    monkeypatch.chdir(ROOT)  # lint-imports reads pyproject.toml from the working directory
    assert lint_imports() == 0, "an import breaks a layer contract: run `lint-imports` for which"


def names_the_workflows_call() -> dict[str, list[str]]:
    """Activity name → where a workflow calls it; a name that is not a literal is listed as such."""
    called: dict[str, list[str]] = {}
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLS:
                first = node.args[0] if node.args else None
                name = first.value if isinstance(first, ast.Constant) else f"<not a literal: {ast.unparse(first) if first else None}>"
                called.setdefault(name, []).append(f"{path.name}:{node.lineno}")
    return called


async def test_every_activity_a_workflow_calls_is_registered_by_the_worker(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'register.db'}")
    async with httpx.AsyncClient() as http:
        registered = {activity._Definition.must_from_callable(fn).name for fn in worker.activities(settings, make_sessions(make_engine(settings.register_url)), http)}
    called = names_the_workflows_call()
    assert len(called) >= 10, "the reading found too few calls to be a reading"
    assert {name: where for name, where in called.items() if name not in registered} == {}
