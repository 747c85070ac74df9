"""Where things are in a user's module: line numbers of declarations, and what its imports serve.

Everything here reads the source with `ast` (nothing is imported), so a finding can name the line
of the field, example or import at fault.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One import statement: the modules it names and the names it binds, and its line."""

    line: int
    modules: tuple[str, ...]
    bound: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """A user module: `copy` is the file the probe imports, `shown` how the report names it."""

    copy: Path
    shown: str

    @cached_property
    def tree(self) -> ast.Module | None:
        try:
            return ast.parse(self.copy.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return None

    def at(self, line: int | None) -> str:
        return f"{self.shown}:{line or 1}"

    def line_of(self, name: str) -> int:
        """The line that defines the top-level `name` (assignment, def or class); 1 if none does."""
        for node in self.tree.body if self.tree else ():
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
                return node.lineno
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(node, ast.Assign | ast.AnnAssign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in targets):
                return node.lineno
        return 1

    def line_of_call(self, first: object, within: str | None = None) -> int:
        """The line of a call whose first argument (or name=/label=) is the constant `first`, such
        as `Number("sepal_length", ...)`; inside the top-level `within` when given."""
        scope: ast.AST | None = self.tree
        if within and self.tree:
            scope = next((n for n in self.tree.body if self.line_of(within) == n.lineno), self.tree)
        for node in ast.walk(scope) if scope else ():
            if not isinstance(node, ast.Call):
                continue
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("name", "label"))]
            if any(isinstance(a, ast.Constant) and a.value == first and type(a.value) is type(first) for a in args):
                return node.lineno
        return self.line_of(within) if within else 1

    def function(self, name: str) -> ast.FunctionDef | None:
        for node in self.tree.body if self.tree else ():
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        return None

    def functions(self) -> list[str]:
        return [n.name for n in self.tree.body if isinstance(n, ast.FunctionDef)] if self.tree else []

    def top_level_imports(self) -> list[Import]:
        found = []
        for node in self.tree.body if self.tree else ():
            if isinstance(node, ast.Import):
                found.append(Import(node.lineno, tuple(a.name for a in node.names),
                                    tuple((a.asname or a.name).split(".")[0] for a in node.names)))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(Import(node.lineno, (node.module,), tuple(a.asname or a.name for a in node.names)))
        return found

    def imports_inside(self, function: str) -> list[Import]:
        """Imports written inside the body of the top-level `function` (lazy imports)."""
        node = self.function(function)
        found = []
        for inner in ast.walk(node) if node else ():
            if isinstance(inner, ast.Import):
                found.append(Import(inner.lineno, tuple(a.name for a in inner.names), ()))
            elif isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                found.append(Import(inner.lineno, tuple(f"{inner.module}.{a.name}" for a in inner.names)
                                    + (inner.module,), ()))
        return found

    def names_used_outside(self, function: str) -> set[str]:
        """Names read anywhere in the module except inside the top-level `function` and imports."""
        used: set[str] = set()
        for node in self.tree.body if self.tree else ():
            if isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.FunctionDef) and node.name == function:
                continue
            used.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
            used.update(_attribute_roots(node))
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                    for t in node.targets):
                used.update(c.value for c in ast.walk(node) if isinstance(c, ast.Constant)
                            and isinstance(c.value, str))
        return used

    def names_used_in(self, function: str) -> set[str]:
        node = self.function(function)
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node else set()


def _attribute_roots(node: ast.AST) -> set[str]:
    return {n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
