"""Fail when a project module is imported inside a function body.

The layer contract (import-linter) sees every import, but an import hidden in a function
also hides a dependency from the reader and usually papers over a cycle. The only
exception is an app's ``AppConfig.ready()`` importing its own registration module
(docs/architecture.md); migrations are Django's and are skipped.
"""

from __future__ import annotations

import ast
import pathlib
import runpy
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The project's apps, read from their one list without importing the package.
APPS = runpy.run_path(str(ROOT / "core" / "project.py"))["PROJECT_APPS"]


def _is_project(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in APPS
    return any(alias.name.split(".")[0] in APPS for alias in node.names)


def offences(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        allowed = path.name == "apps.py" and func.name == "ready"
        for node in ast.walk(func):
            if isinstance(node, ast.Import | ast.ImportFrom) and _is_project(node) and not allowed:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import inside {func.name}()")
    return found


def main() -> int:
    found = []
    for app in (*APPS, "bench"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                found += offences(path)
    found += offences(ROOT / "conftest.py")
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} project import(s) inside functions (docs/architecture.md lists the one exception).")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
