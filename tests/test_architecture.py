"""The structure of ARCHITECTURE.md holds.

- The package layers: `lint-imports` (the contracts in .importlinter) finds no import from a
  lower package into a higher one, and no import cycle in any package.
- The code leans on other libraries only through their public API, and what wraps the WSGI
  app (the edge in front of Flask) lives in one place: merchant/web/edge/. Read from the
  source with ast, so a new offender fails here with its file and line.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "merchant"
EDGE = PACKAGE / "web" / "edge"


def modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))]


def private_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """`from x import _y` where x is another library (not merchant, not relative)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                node.module.split(".")[0] != "merchant":
            found += [(node.lineno, f"from {node.module} import {alias.name}")
                      for alias in node.names if alias.name.startswith("_")]
    return found


def wsgi_app_wrapping(tree: ast.Module) -> list[int]:
    """Lines that assign `<something>.wsgi_app` or hand it to a call (a middleware wrapping
    it)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(part, ast.Attribute) and part.attr == "wsgi_app"
                   for target in targets for part in ast.walk(target)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            if any(isinstance(arg, ast.Attribute) and arg.attr == "wsgi_app"
                   for arg in [*node.args, *(keyword.value for keyword in node.keywords)]):
                lines.append(node.lineno)
    return sorted(set(lines))


def test_the_scans_see_what_they_look_for():
    tree = ast.parse("from flask.sessions import _helper, public\n"
                     "from merchant.web import _private\n"
                     "app.wsgi_app = Wrapper(app.wsgi_app)\n"
                     "other = Middleware(application=app.wsgi_app)\n")
    assert private_imports(tree) == [(1, "from flask.sessions import _helper")]
    assert wsgi_app_wrapping(tree) == [3, 4]


def test_no_module_imports_another_librarys_private_names():
    offenders = {name: found for name, tree in modules() if (found := private_imports(tree))}
    assert offenders == {}


def test_only_the_edge_wraps_the_wsgi_app():
    offenders = {name: lines for name, tree in modules()
                 if not (ROOT / name).is_relative_to(EDGE)
                 and (lines := wsgi_app_wrapping(tree))}
    assert offenders == {}


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
