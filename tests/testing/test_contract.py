"""`automl.testing`: the contract checks pass on every built-in and catch what they promise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from plugin_util import LOCAL

from automl.errors import PluginError
from automl.plugins import load_catalog


def _builtin_components() -> list[object]:
    catalog = load_catalog(entry_points=False)
    params = []
    for registry in catalog.registries.values():
        for component in registry:
            slow = component.name == "pretrained"  # builds a keras.applications network 3 times
            marks = pytest.mark.slow if slow else ()
            params.append(
                pytest.param(component, id=f"{component.kind}:{component.name}", marks=marks)
            )
    return params


@pytest.mark.parametrize("component", _builtin_components())
def test_builtin_components_pass_the_contract(component) -> None:  # type: ignore[no-untyped-def]
    from automl.testing import check_component

    data_params = {"name": "iris"} if component.name == "sklearn" else None
    # the pretrained family downloads imagenet weights by default: random weights here
    params = {"weights": None, "image_size": 32} if component.name == "pretrained" else None
    check_component(component, data_params=data_params, params=params)


def test_contract_rejects_unregistered_keras_class() -> None:
    import keras

    from automl import BaseModelFamily
    from automl.testing import ContractError, check_component

    class Doubler(keras.layers.Layer):  # not registered: cannot reload from model.keras
        def call(self, x):  # type: ignore[no-untyped-def]
            return x * 2.0

    class Unsaveable(BaseModelFamily):
        name = "unsaveable"
        help = "Uses an unregistered custom layer."

        def build(self, inputs, ctx, **params):  # type: ignore[no-untyped-def]
            return Doubler()(keras.layers.Dense(3)(inputs))

    with pytest.raises(
        ContractError,
        match=r"model_family 'unsaveable': a model with its layers does not reload from a \.keras "
        r"file; register custom Keras classes with keras\.saving\.register_keras_serializable",
    ):
        check_component(Unsaveable())


def test_contract_feeds_token_ids_to_families_that_take_tokens() -> None:
    """Token ids up to the vocabulary size the context gives (and 0 as padding), as ints."""
    import keras

    from automl import BaseModelFamily
    from automl.testing import ContractError, check_component

    class Tokens(BaseModelFamily):
        name = "tokens"
        help = "Averages token vectors."
        takes_tokens = True
        size: int | None = None

        def build(self, inputs, ctx, **params):  # type: ignore[no-untyped-def]
            vocabulary = self.size or ctx.vocabulary_size
            vectors = keras.layers.Embedding(vocabulary, 4, mask_zero=True)(inputs)
            return keras.layers.GlobalAveragePooling1D()(vectors)

    check_component(Tokens())  # sized by ctx.vocabulary_size: passes
    too_small = Tokens()
    too_small.size = 5  # ids up to 19 do not fit
    with pytest.raises(ContractError, match=r"model_family 'tokens': raised \w+ with default"):
        check_component(too_small)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"name": "my.metric"}, r"expected a name of letters, digits.*Received: name='my.metric'"),
        ({"help": ""}, r"expected a one-line `help`"),
        ({"direction": "up"}, r"expected direction 'maximize' or 'minimize'\. Received: 'up'"),
        ({"tasks": ("ranking",)}, r"expected `tasks` to be a non-empty subset"),
        (
            {"params": ("float_param('t', 2.0, 'Threshold.', bounds=(0, 1))",)},
            r"parameter 't': the default value is invalid: expected a value in \[0, 1\], got 2\.0",
        ),
        (
            {"params": ("float_param('t', 0.5, 'Threshold.', low=0.9, high=0.1)",)},
            r"parameter 't': `low <= high` must hold, but got \(low=0\.9, high=0\.1\)",
        ),
        (
            {"params": ("int_param('k', 3, 'K.', low=1, high=20, bounds=(1, 10))",)},
            r"parameter 'k': the default range leaves the bounds: "
            r"expected a value in \[1, 10\], got 20",
        ),
        ({"inverted": True}, r"expected perfect predictions to score at least as well as random"),
    ],
    ids=["name", "help", "direction", "tasks", "default", "range", "bounds", "behaviour"],
)
def test_contract_rejects_bad_declarations(attrs: dict[str, object], message: str) -> None:
    import numpy as np

    from automl import BaseMetric, float_param, int_param
    from automl.testing import ContractError, check_component

    namespace = {"float_param": float_param, "int_param": int_param}
    inverted = bool(attrs.pop("inverted", False))
    if "params" in attrs:
        attrs["params"] = tuple(eval(p, namespace) for p in attrs["params"])  # type: ignore[union-attr]

    class Acc(BaseMetric):
        name = "acc"
        help = "Accuracy."
        tasks = ("multiclass",)

        def score(self, y_true, y_pred):  # type: ignore[no-untyped-def]
            hit = float(np.mean(np.argmax(y_pred, axis=1) == y_true))
            return 1.0 - hit if inverted else hit

    for key, value in attrs.items():
        setattr(Acc, key, value)
    with pytest.raises(ContractError, match=message):
        check_component(Acc())


def test_contract_helpers_collect_and_parametrize(tmp_path: Path) -> None:
    from automl.testing import (
        check_plugin_hooks,
        collect_components,
        param_sets,
        parametrize_components,
    )

    (tmp_path / "tiny_plugin.py").write_text(textwrap.dedent(LOCAL))
    plugin = str(tmp_path / "tiny_plugin.py")
    assert check_plugin_hooks(plugin) == ["register_model_families"]
    (tiny,) = collect_components(plugin)
    assert param_sets(tiny) == [{"units": 8}, {"units": 4}, {"units": 16}]
    mark = parametrize_components(plugin)
    assert mark.args[0] == "component" and mark.kwargs["ids"] == ["model_family:tiny"]
    (tmp_path / "typo.py").write_text(
        "from automl import hookimpl\n@hookimpl\ndef on_study_ended(study): pass\n"
    )
    with pytest.raises(PluginError, match="did you mean 'on_study_end'"):
        check_plugin_hooks(str(tmp_path / "typo.py"))
