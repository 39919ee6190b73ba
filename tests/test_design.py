"""The architecture as tests: imports point one way (the import-linter contract in pyproject.toml),
and only the modules that read how a spec was written look at its tree of branches and blocks;
every analysis walks the graph."""
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "archcalc"
# The tree's own modules, and those that read how the spec was written (not what it computes):
# the module names of the lowering, the comparison's Inception/residual traits, the questions'
# block savings, and the spec's transformations of its layers.
READS_THE_TREE = {"expand.py", "graph.py", "spec.py", "lower/build.py", "comparison.py", "questions.py"}


def test_imports_point_one_way():
    pytest.importorskip("importlinter")
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(PACKAGE.parent / "pyproject.toml"), no_cache=True) == 0


def test_only_the_tree_modules_dispatch_on_tree_nodes():
    pattern = re.compile(r"isinstance\([^)]*\b(Parallel|Block|Join)\b")
    found = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if pattern.search(path.read_text())}
    assert found <= READS_THE_TREE, found - READS_THE_TREE
    assert {"engine.py", "liveness.py"}.isdisjoint(found)
