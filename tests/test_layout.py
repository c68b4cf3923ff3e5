"""The code's layout, as the README's "Layout" section promises it: who may import what, who takes
the archive's lock, and how large a spider or a function may grow. Read from the source (ast)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from portalscraper.items import RECORD_FIELDS
from portalscraper.settings import FEED_EXPORT_FIELDS

PACKAGE = Path(__file__).resolve().parents[1] / "portalscraper"


def modules(folder: str = "") -> dict[str, ast.Module]:
    root = PACKAGE / folder
    return {str(p.relative_to(PACKAGE)): ast.parse(p.read_text("utf-8")) for p in sorted(root.rglob("*.py"))}


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_the_archive_imports_no_spider_no_extraction_and_no_scrapy() -> None:
    for name, tree in modules("archive").items():
        bad = {m for m in imported(tree) if m.split(".")[0] in ("scrapy", "twisted", "parsel")
               or m.startswith(("portalscraper.spiders", "portalscraper.extract"))}
        assert not bad, f"archive/{name} imports {sorted(bad)}"


def test_no_spider_opens_a_database() -> None:
    for name, tree in modules("spiders").items():
        bad = {m for m in imported(tree) if m.split(".")[0] in ("sqlite3", "sqlite_utils")
               or m in ("portalscraper.archive.sqlite", "portalscraper.archive.lock",
                        "portalscraper.archive.sqlite.open_database")}
        assert not bad, f"spiders/{name} imports {sorted(bad)}"


def test_the_lock_is_acquired_in_one_place() -> None:
    places = [name for name, tree in modules().items() for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ArchiveLock"]
    assert places == ["archive/session.py"]


def test_spiders_stay_small_and_functions_short() -> None:
    assert len((PACKAGE / "spiders/base.py").read_text("utf-8").splitlines()) <= 300
    too_big = []
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) + bool(args.vararg) + \
                    bool(args.kwarg) - (1 if args.args and args.args[0].arg in ("self", "cls") else 0)
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 50 or count > 6:
                    too_big.append(f"{name}:{node.lineno} {node.name}: {length} lines, {count} parameters")
    assert too_big == []


def test_spiders_are_composed_not_mixed() -> None:
    """A spider holds its collaborators (listing pages, item pages, sources, replay), each with an
    interface of its own: no mixin under spiders/, and no class there with more than one base."""
    for name, tree in modules("spiders").items():
        classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        assert [c.name for c in classes if c.name.endswith("Mixin")] == [], f"spiders/{name}"
        assert [c.name for c in classes if len(c.bases) > 1] == [], f"spiders/{name}"


def test_the_record_shape_is_written_once() -> None:
    schema = json.loads((PACKAGE / "schema/record.schema.json").read_text("utf-8"))
    assert tuple(schema["properties"]) == RECORD_FIELDS
    assert tuple(FEED_EXPORT_FIELDS) == RECORD_FIELDS
    assert "state" not in RECORD_FIELDS and "problems" not in RECORD_FIELDS


def test_spiders_hold_no_url_patterns() -> None:
    """Listing and item patterns are the profile's (data), not the spiders' (code)."""
    for name, tree in modules("spiders").items():
        patterns = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Constant)
                    and isinstance(node.value, str) and ("/docu/" in node.value or "/cps/" in node.value)]
        assert patterns == [], f"spiders/{name} lines {patterns}"


def test_settings_are_read_only_where_components_are_built() -> None:
    """`settings.get...(...)` only in from_crawler (and the functions it calls by name below)."""
    allowed = {"from_crawler", "session_options", "politeness", "open_archive", "check_settings", "crawl",
               "shared_crawl", "reparse_crawl", "cmd_demo", "cmd_export"}
    outside = []
    for name, tree in modules().items():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.name in allowed:
                continue
            for node in ast.walk(fn):
                holder = node.value if isinstance(node, ast.Attribute) else None
                named = holder.attr if isinstance(holder, ast.Attribute) else holder.id \
                    if isinstance(holder, ast.Name) else ""
                if isinstance(node, ast.Attribute) and node.attr.startswith("get") and named == "settings":
                    outside.append(f"{name}:{node.lineno} {fn.name}")
    assert outside == []


# -- the package's shape (README, "Layout") -------------------------------------------------------

TOP_LEVEL_MODULES = {"__init__.py", "cli.py", "items.py", "settings.py", "signals.py"}
TOP_LEVEL_FOLDERS = {"archive", "commands", "crawl", "distributed", "extract", "middlewares", "pipelines", "profiles",
                     "replica", "schema", "serve", "spiders", "webarchive"}


def test_the_top_level_is_small() -> None:
    modules_ = {p.name for p in PACKAGE.glob("*.py")}
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert (modules_, folders) == (TOP_LEVEL_MODULES, TOP_LEVEL_FOLDERS)


def test_settings_hold_values_not_live_objects() -> None:
    """Settings are copied by Scrapy and read by every component: plain data only. The crawl's
    session travels beside the crawler (crawl/attached.py), and nothing pretends to be copied."""
    from portalscraper import settings

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list | tuple | frozenset | set):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | float | bool)

    live = [name for name in dir(settings) if name.isupper() and not plain(getattr(settings, name))]
    assert live == []
    copied = [f"{name}:{node.lineno}" for name, tree in modules().items() for node in ast.walk(tree)
              if isinstance(node, ast.FunctionDef) and node.name in ("__deepcopy__", "__copy__")]
    assert copied == []
    with_session = [f"{name}:{node.lineno}" for name, tree in modules().items() for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and node.value == "ARCHIVE_SESSION"]
    assert with_session == []


def test_the_archive_holds_no_thread_futures() -> None:
    for name, tree in modules("archive").items():
        bad = {m for m in imported(tree) if m.split(".")[0] in ("concurrent", "threading", "asyncio")}
        assert not bad, f"archive/{name} imports {sorted(bad)}"


def test_pure_parts_import_no_scrapy() -> None:
    """What a crawl takes and how it is judged are pure: testable without Scrapy or Twisted."""
    for name in ("crawl/args.py", "crawl/scope.py", "crawl/httputil.py", "crawl/verdict.py"):
        tree = ast.parse((PACKAGE / name).read_text("utf-8"))
        bad = {m for m in imported(tree) if m.split(".")[0] in ("scrapy", "twisted", "parsel")}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_modules_import_each_other_in_one_direction() -> None:
    """No import cycle between the package's modules (imports inside functions count; names for the
    type checker alone do not): a crawl can be read from the command down, never back up."""
    trees = modules()
    names = {name.removesuffix(".py").removesuffix("/__init__").replace("/", "."): name for name in trees}
    graph: dict[str, set[str]] = {}
    for module, name in names.items():
        tree = trees[name]
        typing_only = {id(n) for node in tree.body if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                       and node.test.id == "TYPE_CHECKING" for n in ast.walk(node)}
        found = {m.removeprefix("portalscraper.") for node in ast.walk(tree) if id(node) not in typing_only
                 for m in imported(ast.Module(body=[node], type_ignores=[]))
                 if isinstance(node, ast.Import | ast.ImportFrom)}
        graph[module] = {m for m in found if m in names and m != module}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module):], module]))
        if module not in done:
            for target in sorted(graph[module]):
                visit(target, [*path, module])
            done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_one_middleware_per_module() -> None:
    for name, tree in modules("middlewares").items():
        classes = [node.name for node in tree.body
                   if isinstance(node, ast.ClassDef) and node.name.endswith("Middleware")]
        assert len(classes) == (0 if name.endswith("__init__.py") else 1), f"{name}: {classes}"


def test_the_command_is_short_and_does_no_library_work() -> None:
    """cli.py parses arguments and prints: a crawl, reparse, a shared crawl, the demo's summary and
    Datasette are run by the modules it calls."""
    source = (PACKAGE / "cli.py").read_text("utf-8")
    assert len(source.splitlines()) <= 400
    tree = ast.parse(source)
    # Names for the type checker alone (`if TYPE_CHECKING:`) are not imported when the command runs.
    tree.body = [node for node in tree.body if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                                                    and node.test.id == "TYPE_CHECKING")]
    bad = {m for m in imported(tree) if m.split(".")[0] in ("scrapy", "subprocess", "datasette", "click", "signal")}
    assert not bad, f"cli.py imports {sorted(bad)}"
