"""The `pretrained` family: backbones, preprocessing inside, weights, freezing and fine-tuning.

No downloads here: backbones get random weights (`weights: null`) or a file the test saves; the
imagenet path is checked up to Keras' download call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from automl.components import BuildContext
from automl.data import Splits
from automl.errors import AutoMLError, SpecError
from automl.spec import load_spec
from automl.trial import compile_model, fit_model
from automl_plugins._fine_tuning import FineTuning, tunable_layers, unfreeze_top
from automl_plugins.pretrained import BACKBONE_LAYER, load_backbone

OFFLINE = {"weights": None, "image_size": 32}


def family(catalog: Any) -> Any:
    return catalog["model_family"].get("pretrained")


def build(catalog: Any, shape: tuple[int, ...], **params: Any) -> keras.Model:
    """The family's body on `shape` inputs with a 2-unit output, as the core would build it."""
    pretrained = family(catalog)
    ctx = BuildContext(
        task="multiclass",
        n_outputs=2,
        input_shape=shape,
        make_activation=lambda: keras.layers.Activation("relu"),
        make_kernel_regularizer=lambda: None,
    )
    inputs = keras.Input(shape=shape)
    features = pretrained.build(inputs, ctx, **{**pretrained.defaults(), **OFFLINE, **params})
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(features))


def backbone_weights(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_layer(BACKBONE_LAYER).get_weights()]


@pytest.mark.parametrize(
    ("name", "top", "rescaled"),
    [
        ("mobilenet_v3_small", "conv_1", False),  # preprocessing inside the network
        ("efficientnet_b0", "top_conv", False),
        ("resnet50_v2", "conv5_block3_3_conv", True),  # preprocess_input x / 127.5 - 1: a layer
    ],
)
def test_each_backbone_builds_frozen_with_its_preprocessing(
    catalog: Any, name: str, top: str, rescaled: bool
) -> None:
    model = build(catalog, (8, 8, 1), backbone=name)
    names = [layer.name for layer in model.layers]
    assert names[1:3] == ["resize", "grey_to_rgb"]  # 8x8 grey -> 32x32 RGB inside the model
    assert ("preprocess" in names) == rescaled
    if rescaled:
        layer = model.get_layer("preprocess")
        assert (layer.scale, layer.offset) == (pytest.approx(1 / 127.5), -1.0)
    backbone = model.get_layer(BACKBONE_LAYER)
    assert tunable_layers(backbone)[-1].name == top  # the keras.applications network asked for
    assert tuple(backbone.input.shape[1:]) == (32, 32, 3)
    assert not backbone.trainable and backbone.trainable_weights == []
    # only the head trains: Dense(head_units) + the output layer, kernel and bias each
    assert len(model.trainable_weights) == 4
    out = keras.ops.convert_to_numpy(model(np.full((2, 8, 8, 1), 128.0, "float32")))
    assert out.shape == (2, 2) and np.all(np.isfinite(out))


def test_unfreeze_top_trains_the_top_layers_with_weights_but_no_batch_norm(catalog: Any) -> None:
    backbone = load_backbone("mobilenet_v3_small", None, 32)
    tunable = tunable_layers(backbone)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in tunable)
    assert [layer.name for layer in tunable] == [
        layer.name for layer in backbone.layers if layer in tunable
    ]  # bottom to top
    names = unfreeze_top(backbone, 3)
    assert names == [layer.name for layer in tunable[-3:]]
    trainable = {layer.name for layer in backbone.layers if layer.trainable and layer.weights}
    assert trainable == set(names)
    expected = {w.path for layer in tunable[-3:] for w in layer.weights}
    assert {w.path for w in backbone.trainable_weights} == expected
    assert unfreeze_top(backbone, 0) == []
    assert backbone.trainable_weights == []


def test_a_saved_weights_file_is_loaded(catalog: Any, tmp_path: Path) -> None:
    source = load_backbone("mobilenet_v3_small", None, 32)
    weights = [w + 0.5 for w in source.get_weights()]  # far from any random initialisation
    source.set_weights(weights)
    path = tmp_path / "mine.weights.h5"
    source.save_weights(path)
    model = build(catalog, (32, 32, 3), weights=str(path))
    for got, want in zip(backbone_weights(model), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    assert "resize" not in [layer.name for layer in model.layers]  # already 32x32


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras, before it gives up
def test_a_weights_file_of_another_backbone_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "other.weights.h5"
    load_backbone("mobilenet_v3_small", None, 32).save_weights(path)
    with pytest.raises(AutoMLError, match=r"other\.weights\.h5 does not fit the EfficientNetB0"):
        load_backbone("efficientnet_b0", str(path), 32)


def test_imagenet_weights_come_from_keras_and_their_failure_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from keras.src.utils import file_utils

    asked = []

    def offline(fname: str, origin: str, **kwargs: Any) -> str:
        asked.append(origin)
        raise Exception(f"URL fetch failure on {origin}")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(
        AutoMLError,
        match=r"could not get the imagenet weights of MobileNetV3Small \(Keras downloads them "
        r"once into \$KERAS_HOME/models; no network\?\): URL fetch failure",
    ):
        load_backbone("mobilenet_v3_small", "imagenet", 224)
    assert asked and asked[0].endswith("weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5")


def test_the_weights_parameter_is_checked_and_relative_to_the_yaml_file(
    catalog: Any, write_space: Any
) -> None:
    (write_space("", "unused.yaml").parent / "w.weights.h5").write_bytes(b"")
    text = """
    data: {source: {sklearn: {name: digits}}}
    model:
      pretrained: {weights: %s}
    """
    spec = load_spec(write_space(text % "w.weights.h5"), catalog=catalog)
    weights = spec.slot("model").options[0].params["weights"]
    assert weights == str(write_space("", "unused.yaml").parent / "w.weights.h5")
    with pytest.raises(SpecError, match=r"line 3: model\.pretrained\.weights: file not found: "):
        load_spec(write_space(text % "missing.weights.h5"), catalog=catalog)
    with pytest.raises(SpecError, match=r"expected imagenet, null .* got 'resnet'"):
        load_spec(write_space(text % "resnet"), catalog=catalog)
    for ok in ("imagenet", "null"):
        load_spec(write_space(text % ok), catalog=catalog)


class LearningRates(keras.callbacks.Callback):
    """The learning rate each epoch's first batch ran at."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if batch == 0:
            self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


@pytest.mark.slow
def test_fine_tuning_unfreezes_the_top_after_the_head_epochs(catalog: Any) -> None:
    """Epoch 1 trains the head; epochs 2-3 also the top 2 layers, at a tenth of the rate that
    the (exponential) schedule sets."""
    schedule = "exponential"
    from automl.space import TrialConfig
    from automl_plugins.optimizers import scheduled_lr

    params = {
        **family(catalog).defaults(),
        **OFFLINE,
        "backbone": "mobilenet_v3_small",
        "trainable_layers": 2,
        "head_epochs": 1,
        "fine_tune_factor": 0.1,
        "head_units": 8,
    }
    adam = {**catalog["optimizer"].get("adam").defaults(), "learning_rate": 0.01}
    adam.update(schedule=schedule, decay_rate=0.5, decay_epochs=1)
    config = TrialConfig.from_json(
        {
            "training": {"epochs": 3, "batch_size": 8},
            "slots": {
                "model": {"name": "pretrained", "params": params},
                "activation": {"name": "relu", "params": {}},
                "loss": {"name": "crossentropy", "params": {}},
                "optimizer": {"name": "adam", "params": adam},
            },
        }
    )
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 255, size=(24, 32, 32, 3)).astype("float32"), np.arange(24) % 2
    splits = Splits(x, y, x[:0], y[:0], x[:0], y[:0], "binary", ["a", "b"])
    spec = load_spec({"data": {"source": {"sklearn": {"name": "breast_cancer"}}}, "model": "mlp"})
    model, _, callbacks = compile_model(config, splits, catalog, seed=0)
    assert isinstance(callbacks[-1], FineTuning)  # after the schedule's own callback
    backbone = model.get_layer(BACKBONE_LAYER)
    before = backbone_weights(model)
    rates = LearningRates()
    fit_model(model, config, spec, splits, 3, [*callbacks, rates])
    top = tunable_layers(backbone)[-2:]
    assert {layer.name for layer in backbone.layers if layer.trainable and layer.weights} == {
        layer.name for layer in top
    }
    top_ids = {id(w) for layer in top for w in layer.weights}
    changed = [
        id(w) in top_ids
        for w, old in zip(backbone.weights, before, strict=True)
        if not np.array_equal(np.array(w), old)
    ]
    assert changed and all(changed)  # the top changed, nothing else (BN statistics neither)
    expected = [scheduled_lr(e, 0.01, schedule, 0.5, 1) for e in range(3)]
    assert rates.rates == pytest.approx([expected[0], expected[1] * 0.1, expected[2] * 0.1])


@pytest.mark.slow
def test_tune_and_export_a_fine_tuned_backbone(
    catalog: Any, write_space: Any, tmp_path: Path
) -> None:
    """Digits (8x8 grey, 0-16) through a backbone loaded from a file: a trial that fine-tunes,
    retrained on export (with the same callbacks, for its best epoch count) and reloaded; raw
    digits in."""
    import automl
    from automl.export import export_model
    from automl.study import tune

    load_backbone("mobilenet_v3_small", None, 32).save_weights(tmp_path / "b.weights.h5")
    space = write_space(
        """
        study: {name: digits-pretrained, trials: 1, seed: 0}
        data:
          source: {sklearn: {name: digits}}
          limit: 100
          folds: 1   # about fine-tuning, not folds: one model per trial
        training: {epochs: 2, batch_size: 32, early_stopping: false}
        preprocessors: [{rescale: {scale: 15.9375}}]   # pixels 0-16 -> 0-255
        model:
          pretrained:
            weights: b.weights.h5
            image_size: 32
            trainable_layers: 2
            head_epochs: 1
            head_units: 16
        """
    )
    result = tune(space, progress=False)
    assert [row["state"] for row in result.leaderboard] == ["complete"]
    retrained = automl.load(export_model(space, tmp_path / "best", retrain=True))
    assert retrained.card["retrained"]["epochs"] == result.best_trial.user_attrs["best_epoch"]
    x = np.random.default_rng(0).uniform(0, 16, size=(5, 8, 8, 1)).astype("float32")
    proba = retrained.predict_proba(x)
    assert proba.shape == (5, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
