"""What a model's training depends on, as one digest: the model artifact's cache key.

The digest covers, conservatively, everything `train()` can reach without a dynamic lookup:
- the module-level statements of the model's file that `train` needs, followed name by name
  (the helpers it calls, the constants it reads, the imports they use, and what those need in
  turn), compared as syntax trees, so comments and blank lines do not count but every token does;
- every statement that binds no name (a seed set, a path inserted...), since any may affect training;
- the whole source of each local module (not the standard library, not an installed package) those
  statements import, and of the local modules that one imports in turn;
- the installed version of each library any of these imports (scikit-learn upgraded: a retrain),
  and Python's version;
- every file under `pretrained/` beside the model, and any file or folder beside it that a string
  in those statements names (`Path(__file__).parent / "data.csv"`).
Nothing depends on where the model's file lies: the same model in two folders has one key.
A needed statement that looks names up dynamically (`globals()`, `eval`, `import_module`, ...)
makes the digest cover every file of the model's package instead. `predict()`, `INPUTS` and the
other names only serving uses are left out, so an edit of them alone does not retrain.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import inspect
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

KEY_FORMAT = b"training-key-1"
PRETRAINED = "pretrained"  # beside model.py: files train() may load; they ship in the image
DYNAMIC_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec", "compile", "__import__", "import_module"})
ENTRY = "train"
STAR = "*"  # what `from x import *` binds: any name


def training_digest(model_module: ModuleType) -> str:
    """A hex digest that changes whenever something `train()` depends on may have changed."""
    digest = hashlib.sha256(KEY_FORMAT)
    digest.update(f"python{sys.version_info.major}.{sys.version_info.minor}".encode())
    for label, content in training_inputs(model_module):
        digest.update(b"\0" + label.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def training_inputs(model_module: ModuleType) -> list[tuple[str, bytes]]:
    """(label, content) of every input of the digest, in a stable order (what the tests inspect)."""
    source = Path(inspect.getfile(model_module)).resolve()
    root = _import_root(source, getattr(model_module, "__name__", source.stem))
    tree = ast.parse(source.read_bytes(), filename=str(source))
    needed = _needed_statements(tree.body)
    inputs: list[tuple[str, bytes]] = []
    if any(_is_dynamic(statement) for statement in needed):
        files = sorted(p for p in source.parent.rglob("*.py") if "__pycache__" not in p.parts)
        inputs += [(f"package:{p.relative_to(source.parent).as_posix()}", p.read_bytes()) for p in files]
    else:
        inputs += [(f"statement:{n}", ast.dump(s).encode()) for n, s in enumerate(needed)]
        package = getattr(model_module, "__package__", None) or ""
        modules, libraries = _imported_code(needed, package, root, exclude=source)
        inputs += [(f"module:{_label(path, root)}", path.read_bytes()) for path in modules]
        inputs += [(f"library:{name}", version.encode()) for name, version in sorted(libraries.items())]
    inputs += [(f"file:{_label(p, source.parent)}", p.read_bytes()) for p in _files_read(needed, source.parent)]
    return inputs


# --- which statements of the module train() needs -----------------------------------------------


def _needed_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The top-level statements `train` needs (and every one that binds no name), in source order."""
    bound = [_bound_names(statement) for statement in body]
    if not any(ENTRY in names for names in bound):  # train comes from somewhere we cannot see
        return list(body)
    has_docstring = bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    chosen = {n for n, names in enumerate(bound)
              if (not names or STAR in names) and not (n == 0 and has_docstring) and not _is_future_import(body[n])}
    wanted = {ENTRY} | {name for n in chosen for name in _used_names(body[n])}
    while more := {n for n, names in enumerate(bound) if n not in chosen and names & wanted}:
        chosen |= more
        wanted |= {name for n in more for name in _used_names(body[n])}
    return [body[n] for n in sorted(chosen)]


def _bound_names(statement: ast.stmt) -> set[str]:
    """The module-level names a statement binds or changes (`X[k] = v` and `X.a = v` change X);
    a star import binds STAR (any name)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}  # what its body binds is local to it
    names: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {STAR if a.name == "*" else a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
    return names


def _used_names(statement: ast.stmt) -> set[str]:
    """Every identifier a statement mentions (locals too: a local that shadows a global is harmless)."""
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}


def _is_dynamic(statement: ast.stmt) -> bool:
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
            return True
        if isinstance(node, ast.Attribute) and (node.attr in DYNAMIC_NAMES or node.attr == "modules"):
            return True  # importlib.import_module(...), sys.modules[...]
    return False


def _is_future_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.ImportFrom) and statement.module == "__future__"


# --- the local modules those statements import --------------------------------------------------


def _imported_code(statements: Iterable[ast.stmt], package: str, root: Path,
                   exclude: Path) -> tuple[list[Path], dict[str, str]]:
    """(the files of the local modules the statements import, and of those these import, sorted;
    {library: its version} for the installed libraries any of them imports)."""
    found: set[Path] = set()
    libraries: dict[str, str] = {}
    pending = list(_imported_names(statements, package))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        top = name.split(".")[0]
        if name in seen or top in sys.stdlib_module_names or top in libraries:
            continue
        seen.add(name)
        top_file = _module_file(top)  # a top-level spec imports nothing; a submodule's imports its parent
        if top_file is None:
            continue
        if not _is_local(top_file, root):
            libraries[top] = _library_version(top, top_file)
            continue
        path = _module_file(name)
        if path is None or path == exclude or not _is_local(path, root):
            continue
        found.add(path)
        module_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_bytes(), filename=str(path))
        pending += _imported_names(tree.body, module_package)
    return sorted(found), libraries


def _library_version(top: str, top_file: Path) -> str:
    """The version in the name of the distribution's `.dist-info` beside the package when it is
    named like the import (numpy-2.1.3.dist-info), else the package file's size and time (a
    reinstall changes them); asking importlib.metadata would cost its imports, or a second for
    a scan of every distribution, at each cold start."""
    site_dir = top_file.parent.parent if top_file.name == "__init__.py" else top_file.parent
    for info in sorted(site_dir.glob(f"{top}-*.dist-info")):
        return info.name.removesuffix(".dist-info").split("-", 1)[1]
    try:
        stat = top_file.stat()
    except OSError:
        return "unknown"
    return f"{top_file} {stat.st_size} {stat.st_mtime_ns}"


def _imported_names(statements: Iterable[ast.stmt], package: str) -> Iterator[str]:
    """Module names the statements import (`from X import y` names X and X.y: y may be a module)."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    yield from (".".join(parts[:n]) for n in range(1, len(parts) + 1))
            elif isinstance(node, ast.ImportFrom):
                base = ("." * node.level) + (node.module or "")
                try:
                    module = importlib.util.resolve_name(base, package) if node.level else base
                except (ImportError, ValueError):
                    continue
                yield module
                yield from (f"{module}.{alias.name}" for alias in node.names if alias.name != "*")


def _module_file(name: str) -> Path | None:
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None) if module is not None else None
    if file is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None
        file = spec.origin if spec is not None and spec.has_location else None
    if not file or not file.endswith(".py"):
        return None
    return Path(file).resolve()


def _installed_roots() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    return tuple(Path(paths[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths)


def _is_local(path: Path, root: Path) -> bool:
    """Under the folder the model is imported from, and not the standard library or an installed
    package (the image pip-installs its libraries into that same folder, LAMBDA_TASK_ROOT)."""
    if not path.is_relative_to(root) or any(path.is_relative_to(r) for r in _installed_roots()):
        return False
    return path.relative_to(root).parts[0].removesuffix(".py") not in _installed_top_levels(root)


@functools.lru_cache(maxsize=8)
def _installed_top_levels(root: Path) -> frozenset[str]:
    """The top-level names the distributions installed into `root` (pip --target) provide."""
    names: set[str] = set()
    for record in root.glob("*.dist-info/RECORD"):
        with contextlib.suppress(OSError):
            for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
                first = line.split(",", 1)[0].split("/", 1)[0]
                if first and not first.endswith((".dist-info", ".data")) and first != "..":
                    names.add(first.removesuffix(".py"))
    return frozenset(names)


def _import_root(source: Path, module_name: str) -> Path:
    """The sys.path folder the module is imported from (apps/ for predictor.model)."""
    depth = len(module_name.split("."))
    return source.parents[depth - 1] if depth - 1 < len(source.parents) else source.parent


# --- the files train() reads ---------------------------------------------------------------------


def _files_read(statements: Iterable[ast.stmt], folder: Path) -> list[Path]:
    """Every file under pretrained/, and under any path beside the model that a string constant names."""
    named = {PRETRAINED}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 256:
                named.add(node.value)
    files: set[Path] = set()
    for name in named:
        try:
            candidate = (folder / name).resolve()
        except (OSError, ValueError):
            continue
        if candidate == folder or not candidate.is_relative_to(folder) or candidate.suffix == ".py":
            continue
        if candidate.is_file():
            files.add(candidate)
        elif candidate.is_dir():
            files |= {p for p in candidate.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    return sorted(files)


def _label(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else path.as_posix()
