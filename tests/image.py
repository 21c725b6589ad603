"""The image's Python side without a container engine: the Dockerfile's build stage replayed on the
build context Docker would send (the project folder less .dockerignore), and the wheel it builds
installed in a fresh virtualenv, run from a folder outside the repository so nothing is imported
from the source tree. tests/ops/test_image.py checks that install; tests/ops/test_compose.py starts the
services compose runs from it."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@dataclass
class Stage:
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)


def dockerfile_stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions (continuation lines joined, comments dropped)."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)  # a comment line inside a continuation is dropped, as Docker does
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = arguments.split()
            stages.append(Stage(words[2] if len(words) >= 3 and words[1].upper() == "AS" else None))
        stages[-1].instructions.append((keyword, arguments))
    return stages


def ignore_rules(root: Path) -> list[tuple[bool, re.Pattern]]:
    """.dockerignore as (is an exception "!…", pattern), in order; Docker's syntax: Go's filepath.Match
    anchored at the context's root, with ** for any number of folders."""
    path = root / ".dockerignore"
    rules = []
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        rules.append((exception, re.compile(regex)))
    return rules


def ignored(relative: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """As Docker decides: the last rule that matches the path, or one of its parent folders, wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for exception, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            result = not exception
    return result


def build_context(root: Path = ROOT) -> list[str]:
    """The files Docker sends as the build context of root (relative paths)."""
    rules = ignore_rules(root)
    prune = not any(exception for exception, _ in rules)  # with no "!" rule nothing inside an ignored folder comes back
    files = []
    for folder, subfolders, names in os.walk(root):
        here = Path(folder).relative_to(root).as_posix()
        here = "" if here == "." else here + "/"
        if prune:
            subfolders[:] = [name for name in subfolders if not ignored(here + name, rules)]
        files += [here + name for name in names if not ignored(here + name, rules)]
    return sorted(files)


def copy_sources(arguments: str) -> tuple[list[str], str, str | None]:
    """COPY [--from=stage] [--chown=…] src… dest → (sources, dest, stage)."""
    words = shlex.split(arguments)
    stage = next((word.split("=", 1)[1] for word in words if word.startswith("--from=")), None)
    words = [word for word in words if not word.startswith("--")]
    return words[:-1], words[-1], stage


def replay_build_stage(dockerfile: Path, context: list[str], root: Path, into: Path) -> list[Path]:
    """Build the wheels the final stage takes from a build stage (COPY --from=…), by running that stage's
    WORKDIR, COPY and RUN instructions here: its file system is the folder `into`. Returns the wheels."""
    stages = dockerfile_stages(dockerfile.read_text())
    taken = [copy_sources(arguments) for keyword, arguments in stages[-1].instructions if keyword == "COPY" and "--from=" in arguments]
    assert taken, "the image installs nothing built in a build stage (no COPY --from=…): it must install the wheel built from the project"
    (sources, _, stage_name), = taken
    stage = next(stage for stage in stages if stage.name == stage_name)
    workdir = into
    for keyword, arguments in stage.instructions:
        if keyword == "WORKDIR":
            workdir = into / arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            copy_from_context(arguments, context, root, into, workdir)
        elif keyword == "RUN":
            # The build stage's paths are relative to its WORKDIR, so it can be replayed in a folder.
            assert not re.search(r"(^|\s)/", arguments), f"the build stage's RUN uses an absolute path: {arguments}"
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            subprocess.run(["sh", "-c", arguments], cwd=workdir, env=env, check=True, capture_output=True)
    wheels: list[Path] = []
    for source in sources:
        path = into / source.lstrip("/")
        wheels += sorted(path.glob("*.whl")) if path.is_dir() else sorted(path.parent.glob(path.name))
    return wheels


def copy_from_context(arguments: str, context: list[str], root: Path, into: Path, workdir: Path) -> None:
    """COPY src… dest from the build context, dest relative to the WORKDIR or absolute in the stage."""
    sources, dest, _ = copy_sources(arguments)
    target = into / dest.lstrip("/") if dest.startswith("/") else workdir / dest
    for source in map(os.path.normpath, sources):
        for relative in context:
            if source == ".":
                inside = relative
            elif relative == source:
                inside = Path(relative).name
            elif relative.startswith(source + "/"):
                inside = relative[len(source) + 1:]
            else:
                continue
            (target / inside).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, target / inside)


@dataclass
class InstalledWheel:
    wheel: Path
    venv: Path
    outside: Path  # a folder outside the repository: the working directory of everything run from the venv

    @property
    def onedoor(self) -> str:
        return str(self.venv / "bin" / "onedoor")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a process run from the install: no PYTHONPATH (the tests run with the
        repository on it), no ONEDOOR_ or DATABASE_URL of the test run."""
        kept = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and k != "DATABASE_URL" and not k.startswith("ONEDOOR_")}
        return {**kept, **extra}

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=self.outside, env=env or self.env(), capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
        with log.open("a") as output:
            return subprocess.Popen(args, cwd=self.outside, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def top_level(self) -> list[str]:
        """The top-level modules and packages the wheel installs."""
        with zipfile.ZipFile(self.wheel) as wheel:
            names = {name.split("/")[0].removesuffix(".py") for name in wheel.namelist() if not name.split("/")[0].endswith((".dist-info", ".data"))}
        return sorted(names)


def install(wheel: Path, folder: Path) -> InstalledWheel:
    """The wheel in a fresh virtualenv. Its dependencies are the project venv's, seen through a .pth
    line naming that venv's site-packages, not installed again: a full `pip install` of them (Temporal's
    CLI, matplotlib, numpy…) took over a minute on the 2-core test machine, and the project venv holds
    exactly what pyproject.toml declares (CI builds it with `pip install -e '.[test]'`). A path in a
    .pth is only added to sys.path: the .pth files in that folder, among them the editable install's
    hook onto the source tree, are not run. (`venv --system-site-packages` would not do: it shows the
    base interpreter's packages, not those of the venv it is run from.)"""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = Path(subprocess.check_output([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site_packages / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps", str(wheel)], check=True)
    outside = folder / "elsewhere"
    outside.mkdir()
    return InstalledWheel(wheel=wheel, venv=venv, outside=outside)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> InstalledWheel:
    """The wheel built as the Dockerfile builds it, installed in a fresh virtualenv."""
    build = tmp_path_factory.mktemp("image-build")
    wheels = replay_build_stage(ROOT / "Dockerfile", build_context(), ROOT, build)
    assert len(wheels) == 1, f"the build stage made {wheels}, not one wheel"
    return install(wheels[0], tmp_path_factory.mktemp("image-install"))
