"""A run's code is the closure of what its method imports: an edit re-plans exactly the runs whose closure
holds the edited module, and an edit of comments, docstrings or formatting re-plans none.

Each test edits a copy of the package (the code identity reads the copy), never the checkout itself."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from nasrepro import code_identity, config as cfg, runs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def package(tmp_path, monkeypatch):
    copy = tmp_path / "nasrepro"
    shutil.copytree(REPO / "src" / "nasrepro", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code_identity, "PACKAGE_DIR", copy)
    code_identity._closures.clear()
    return copy


@cache
def methods() -> list[dict]:
    """The resolved options of every method of config.yaml on NAS-Bench-201."""
    config = cfg.validate(cfg.load(REPO / "config.yaml"))
    return [cfg.searcher_spec(config, method, "nb201-cifar10") for method in config["methods"]]


def digests() -> dict[str, set[str]]:
    """The code digests of the methods of config.yaml on NAS-Bench-201, by method type."""
    found = {}
    for options in methods():
        found.setdefault(options["type"], set()).add(runs.code_digest(options, "nb201"))
    return found


def replanned(package: Path, module: str, edit) -> set[str]:
    before = digests()
    path = package / module
    path.write_text(edit(path.read_text()))
    after = digests()
    return {kind for kind in before if before[kind] != after[kind]}


def add_function(source: str) -> str:
    return source + "\n\ndef _an_edit():\n    return 1\n"


def test_editing_the_batched_loop_replans_exactly_the_methods_that_import_it(package):
    # arch2vec and CATE import it too (through searchers/pretrained.py's QueryLog)
    assert replanned(package, "searchers/batched.py", add_function) == {"bananas", "npenas_bo", "npenas_np", "bonas",
                                                                        "nasbowl", "arch2vec", "cate"}


def test_editing_a_weaknas_helper_replans_every_method_that_imports_it(package):
    importers = {"weaknas", "bananas", "npenas_bo", "npenas_np", "bonas", "nasbowl", "neural_predictor"}
    assert importers <= replanned(package, "searchers/weaknas.py", add_function)
    assert "regularized_evolution" not in replanned(package, "searchers/weaknas.py", add_function)


def test_editing_the_compiled_gin_loop_replans_the_gin_methods(package):
    assert replanned(package, "predictors/gin_compiled.py", add_function) == {"npenas_bo", "npenas_np"}


def test_comments_docstrings_and_formatting_replan_nothing(package):
    def cosmetic(source: str) -> str:
        edited = source.replace('"""Regularized', '"""Edited docstring. Regularized', 1)
        return "# a comment\n" + edited.replace("\n\n\n", "\n\n\n\n") + "\n# another\n"

    assert replanned(package, "searchers/evolution.py", cosmetic) == set()


def test_a_change_of_behaviour_replans_only_its_method(package):
    assert replanned(package, "searchers/evolution.py", add_function) == {"regularized_evolution"}


def test_the_runner_is_every_runs_code(package):
    assert replanned(package, "oracle.py", add_function) == set(digests())


def test_closures_of_another_package_folder_are_not_reused_for_this_one(tmp_path, monkeypatch):
    # a closure walked over an edited copy of the package (the fixture above) must not answer for the package itself
    real = code_identity.closure(["nasrepro.searchers.evolution"])
    copy = tmp_path / "nasrepro"
    shutil.copytree(REPO / "src" / "nasrepro", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "searchers" / "evolution.py").write_text(add_function((copy / "searchers" / "evolution.py").read_text()))
    monkeypatch.setattr(code_identity, "PACKAGE_DIR", copy)
    edited = code_identity.closure(["nasrepro.searchers.evolution"])
    monkeypatch.undo()
    assert edited["nasrepro.searchers.evolution"] != real["nasrepro.searchers.evolution"]
    assert code_identity.closure(["nasrepro.searchers.evolution"]) == real


def test_a_users_module_counts_by_its_syntax_tree(tmp_path, monkeypatch):
    module = tmp_path / "users_search.py"
    module.write_text("from nasrepro.searchers.random_search import RandomSearch\n\n\nclass Mine(RandomSearch):\n"
                      "    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = code_identity.closure(["users_search"])
    assert "nasrepro.searchers.random_search" in first and "users_search" in first
    module.write_text("# a comment\n" + module.read_text())
    assert code_identity.closure(["users_search"]) == first
    module.write_text(module.read_text().replace("pass", "batch_size = 2"))
    assert code_identity.changed(first, code_identity.closure(["users_search"])) == {"users_search": "changed"}
