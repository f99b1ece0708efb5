"""Nothing in the package can execute its input: no pickle, no unsafe YAML, no eval/exec.

The whole ``replay`` source is parsed and walked; a new import or call of one of these
fails here with the file and line. The YAML loaders are also checked at runtime.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

PACKAGE = Path(__file__).resolve().parents[1] / "replay"
#: Modules that deserialise to arbitrary objects or run code.
FORBIDDEN_IMPORTS = {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "marshal", "shelve", "joblib", "jsonpickle"}
#: Builtins that evaluate code.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
#: PyYAML entry points and loaders that can construct python objects.
FORBIDDEN_YAML = {
    "load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all",
    "Loader", "FullLoader", "UnsafeLoader", "CLoader", "CFullLoader", "CUnsafeLoader",
    "add_multi_constructor",
}  # fmt: skip
#: os functions that run programs.
FORBIDDEN_OS = {"system", "popen", "execv", "execve", "execvp", "execl", "execlp", "spawnv", "spawnl", "startfile"}
#: Where starting a process is the point, never with input data: the capture harness, the pager,
#: and the re-execution of a worker's stimuli in an interpreter the user names (``--python``),
#: which runs replay's own runner script and reads its results back as msgpack.
SUBPROCESS_ALLOWED = {"cli_common.py", "capture", "worker/reexecute.py"}


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _problems(path: Path, root: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    relative = path.relative_to(root)
    allowed_subprocess = relative.parts[0] in SUBPROCESS_ALLOWED or relative.as_posix() in SUBPROCESS_ALLOWED
    found = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_IMPORTS:
                found.append(f"{where}: imports {name}")
            if name.split(".")[0] == "subprocess" and not allowed_subprocess:
                found.append(f"{where}: imports subprocess")
            if name.startswith("yaml.") and name.split(".", 1)[1] in FORBIDDEN_YAML:
                found.append(f"{where}: imports {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"{where}: calls {node.func.id}()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "yaml" and node.attr in FORBIDDEN_YAML:
                found.append(f"{where}: uses yaml.{node.attr}")
            if node.value.id == "os" and node.attr in FORBIDDEN_OS:
                found.append(f"{where}: uses os.{node.attr}")
            if node.value.id == "builtins" and node.attr in FORBIDDEN_CALLS:
                found.append(f"{where}: uses builtins.{node.attr}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in FORBIDDEN_YAML - {"load"}:
            found.append(f"{where}: names {node.value!r} (getattr on yaml?)")
    return found


def test_the_scan_sees_the_package() -> None:
    assert len(_sources()) > 20
    assert any(path.name == "yaml_reader.py" for path in _sources())


def test_nothing_can_execute_input() -> None:
    problems = [problem for path in _sources() for problem in _problems(path)]
    assert problems == []


def test_the_scan_catches_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport subprocess\nimport os\nimport yaml\nfrom yaml import FullLoader\n"
        "yaml.load(x, Loader=yaml.Loader)\neval('1')\nexec('x')\nos.system('x')\n"
        "getattr(yaml, 'unsafe_load')\n"
    )
    problems = "\n".join(_problems(bad, tmp_path))
    for expected in ("imports pickle", "imports subprocess", "imports yaml.FullLoader", "uses yaml.load",
                     "uses yaml.Loader", "calls eval()", "calls exec()", "uses os.system", "names 'unsafe_load'"):  # fmt: skip
        assert expected in problems


def test_yaml_loaders_are_safe() -> None:
    from replay.ingest import yaml_reader

    safe_bases = tuple(base for base in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)) if base is not None)
    for loader in (yaml_reader._FastLoader, yaml_reader._BoundedLoader):
        assert issubclass(loader, safe_bases)
        assert not issubclass(loader, (yaml.FullLoader, yaml.UnsafeLoader))
        tags = {tag for tag in loader.yaml_constructors if tag} | {tag for tag in loader.yaml_multi_constructors if tag}
        python_tags = {tag for tag in tags if "python/" in tag}
        assert python_tags <= {"tag:yaml.org,2002:python/tuple"}, python_tags
