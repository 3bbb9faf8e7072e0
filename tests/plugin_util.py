"""Helpers of the plugin tests: fake installed distributions and small plugin sources.

Installed plugins are simulated the way pip leaves them: a module plus a `<name>.dist-info` folder
with `METADATA` and `entry_points.txt`, on a directory added to `sys.path`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

IRIS_SPACE = """
study: {{name: {name}, metric: accuracy, trials: 2, sampler: random, pruner: none, seed: 0}}
data: {{source: {{sklearn: {{name: iris}}}}, folds: 1, validation: 0.3, test: 0.0}}
training: {{epochs: 1, batch_size: 32}}
{extra}
model: {model}
loss: crossentropy
optimizer: adam
"""

GOOD = """
from automl import BaseLoss, hookimpl, float_param

class Squared(BaseLoss):
    name = "{name}"
    help = "Squared error under another name."
    tasks = ("regression",)
    params = (float_param("scale", 1.0, "Multiplier.", low=0.5, high=2.0),)

    def build(self, task, n_classes, **params):
        return "mse"

@hookimpl
def register_losses(register):
    register(Squared())

@hookimpl
def on_study_end(study):
    pass
"""

LOCAL = """
from automl import BaseModelFamily, hookimpl, int_param

class Tiny(BaseModelFamily):
    name = "tiny"
    help = "One Dense layer."
    params = (int_param("units", 8, "Units.", low=4, high=16),)

    def build(self, inputs, ctx, **params):
        import keras
        return ctx.activate(keras.layers.Dense(params["units"])(inputs))

@hookimpl
def register_model_families(register):
    register(Tiny())
"""


def make_dist(root: Path, dist: str, ep_name: str, module: str, source: str) -> Path:
    """Write an installed-looking distribution whose entry point `ep_name` is `module`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3.1\n")
    (info / "entry_points.txt").write_text(f"[automl]\n{ep_name} = {module}\n")
    return root


def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory on sys.path for fake installed distributions, with no AUTOML_ switch."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("AUTOML_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("AUTOML_NO_ENTRY_POINTS", raising=False)
    return root
