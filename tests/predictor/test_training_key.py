"""The artifact's cache key is what training depends on: which edits of a model retrain, which do not.

Each case writes a model package into a temporary folder on sys.path (the fixture regressor and
pre-trained model, and small models made for one rule), edits one thing, and compares the keys.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from predictor import artifact
from predictor.training_key import training_digest, training_inputs

from tests.fixtures.apps import REGRESSOR

PRETRAINED_MODEL = REGRESSOR.parent / "pretrained.py"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """make(files) writes a package `keyed_<n>` (each file name: source) and returns its folder."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(files: dict[str, str]) -> Path:
        name = f"keyed_{len(made)}_{abs(hash(tmp_path)) % 10_000}"
        folder = tmp_path / name
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for relative, text in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(textwrap.dedent(text))
        made.append(name)
        return folder

    yield make
    for name in made:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def key(folder: Path, module: str = "model") -> str:
    """The digest of `folder`'s module as a fresh import sees it (as each image build does)."""
    name = f"{folder.name}.{module}"
    for loaded in [m for m in sys.modules if m.startswith(folder.name + ".")]:
        del sys.modules[loaded]
    importlib.invalidate_caches()
    return training_digest(importlib.import_module(name))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new))


def test_an_edit_of_predict_or_of_what_only_predict_uses_keeps_the_key(package):
    folder = package({"model.py": REGRESSOR.read_text()})
    model = folder / "model.py"
    before = key(folder)
    edit(model, 'label=f"About €{rent:,.0f} a month"', 'label=f"Roughly €{rent:,.0f} a month"')
    edit(model, '"south": -120.0', '"south": -150.0')  # DISTRICT: read by contributions(), not train()
    edit(model, 'default=60.0', 'default=65.0')  # INPUTS
    edit(model, 'TITLE = "Fixture regressor"', 'TITLE = "Rent"')
    edit(model, '"""Fixed coefficients: picklable, instant, no dependency."""',
         '"""Fixed coefficients: picklable, instant, no dependency."""\n    # a comment: not code')
    assert key(folder) == before


def test_an_edit_of_train_changes_the_key(package):
    folder = package({"model.py": REGRESSOR.read_text()})
    before = key(folder)
    edit(folder / "model.py", '"base": 200.0', '"base": 201.0')
    assert key(folder) != before


def test_model_version_names_the_artifact(package, tmp_path):
    folder = package({"model.py": REGRESSOR.read_text()})
    name = f"{folder.name}.model"
    before = artifact.artifact_path(importlib.import_module(name), tmp_path)
    edit(folder / "model.py", 'MODEL_VERSION = "fixture-regressor-1"', 'MODEL_VERSION = "fixture-regressor-2"')
    del sys.modules[name]
    after = artifact.artifact_path(importlib.import_module(name), tmp_path)
    assert after != before and after.name.startswith("fixture-regressor-2-")
    assert after.name.split("-")[-1] == before.name.split("-")[-1]  # the same training inputs


HELPERS = '''
import math
import random

MODEL_VERSION = "helpers-1"
SCALE = 3.0
LABELS = ["low", "high"]
random.seed(7)


def _weights(n):
    return [SCALE * math.sqrt(i) for i in range(n)]


def train():
    return {"weights": _weights(4)}


def predict(model, record):
    return LABELS[int(sum(model["weights"]) > 1)]
'''


@pytest.mark.parametrize(("old", "new", "retrains"), [
    ("SCALE = 3.0", "SCALE = 4.0", True),  # a constant a helper of train() reads
    ("math.sqrt(i)", "math.log1p(i)", True),  # the helper itself
    ("random.seed(7)", "random.seed(8)", True),  # a statement that binds nothing: kept, conservatively
    ("import math\n", "import math\nimport cmath as math\n", True),  # what a needed name is bound to
    ('LABELS = ["low", "high"]', 'LABELS = ["small", "large"]', False),  # only predict() reads it
    ("def predict(model, record):", "def predict(model, record, *_):", False),
])
def test_train_follows_its_helpers_and_constants_name_by_name(package, old, new, retrains):
    folder = package({"model.py": HELPERS})
    before = key(folder)
    edit(folder / "model.py", old, new)
    assert (key(folder) != before) is retrains


LOCAL_IMPORTS = {
    "model.py": '''
        from .features import build
        from .charts import bar

        MODEL_VERSION = "local-1"


        def train():
            return build()


        def predict(model, record):
            return bar(model)
    ''',
    "features.py": '''
        from . import util


        def build():
            return {"w": util.WEIGHT}
    ''',
    "util.py": "WEIGHT = 2.0\n",
    "charts.py": '''
        def bar(model):
            return {"bar": model["w"]}
    ''',
}


@pytest.mark.parametrize(("file", "old", "new", "retrains"), [
    ("features.py", '{"w": util.WEIGHT}', '{"w": util.WEIGHT * 2}', True),  # a local module train() imports
    ("util.py", "WEIGHT = 2.0", "WEIGHT = 3.0", True),  # ... and one that module imports
    ("charts.py", '{"bar": model["w"]}', '{"bar": -model["w"]}', False),  # imported for predict() only
])
def test_local_modules_train_imports_count_whole_and_transitively(package, file, old, new, retrains):
    folder = package(LOCAL_IMPORTS)
    before = key(folder)
    edit(folder / file, old, new)
    assert (key(folder) != before) is retrains


def test_a_library_counts_by_its_version_even_when_pip_installed_beside_the_code(package):
    # The image pip-installs its requirements into LAMBDA_TASK_ROOT, beside predictor/: a library
    # there is recorded by its .dist-info, and counts by its version, not its code.
    folder = package({"model.py": '''
        MODEL_VERSION = "lib-1"


        def train():
            from fakelib.fit import fit
            return fit()


        def predict(model, record):
            return model
    '''})
    root = folder.parent
    (root / "fakelib").mkdir()
    (root / "fakelib" / "__init__.py").write_text("")
    (root / "fakelib" / "fit.py").write_text("def fit():\n    return 1\n")
    info = root / "fakelib-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakelib\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakelib/__init__.py,,\nfakelib/fit.py,,\nfakelib-1.0.dist-info/RECORD,,\n")
    try:
        before = key(folder)
        edit(root / "fakelib" / "fit.py", "return 1", "return 2")
        assert key(folder) == before
        assert "fakelib" not in sys.modules  # finding it imported nothing of the library
        info.rename(root / "fakelib-1.1.dist-info")  # as pip upgrades it
        assert key(folder) != before  # an upgrade retrains
    finally:
        for name in ("fakelib", "fakelib.fit"):
            sys.modules.pop(name, None)


def test_a_dynamic_lookup_makes_every_file_of_the_package_count(package):
    folder = package({"model.py": '''
        MODEL_VERSION = "dynamic-1"


        def _fit():
            return 1


        def train():
            return globals()["_fit"]()


        def predict(model, record):
            return model
    '''})
    before = key(folder)
    edit(folder / "model.py", "return model", "return model + 0")
    assert key(folder) != before  # predict() too: the key cannot see what globals() reaches
    assert all(label.startswith(("package:", "file:")) for label, _ in training_inputs(
        sys.modules[f"{folder.name}.model"]))


def test_files_beside_the_model_that_train_reads_count(package):
    folder = package({"model.py": PRETRAINED_MODEL.read_text(), "data/table.csv": "a,b\n1,2\n"})
    (folder / "pretrained").mkdir()
    (folder / "pretrained" / "weights.json").write_text('{"weight": 2.0}')
    before = key(folder)
    (folder / "pretrained" / "weights.json").write_text('{"weight": 9.0}')
    after_weights = key(folder)
    assert after_weights != before  # a file under pretrained/
    edit(folder / "data" / "table.csv", "1,2", "1,3")
    assert key(folder) == after_weights  # no string in what train() needs names data/
    edit(folder / "model.py", "return json.loads(WEIGHTS.read_text())",
         'return {**json.loads(WEIGHTS.read_text()), "rows": len((WEIGHTS.parents[1] / "data").read_text())}')
    reads_data = key(folder)
    edit(folder / "data" / "table.csv", "1,3", "1,4")
    assert key(folder) != reads_data  # "data", a string in train(), names a folder beside the model


def test_a_model_whose_train_is_not_visible_counts_its_whole_file(package):
    folder = package({"model.py": '''
        MODEL_VERSION = "star-1"
        from math import *  # noqa


        def predict(model, record):
            return model
    ''', "extra.py": "def train():\n    return 1\n"})
    before = key(folder)
    edit(folder / "model.py", "return model", "return model + 1")
    assert key(folder) != before
