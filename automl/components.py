"""Base classes of every component kind (their `Param` declarations live in `automl.params`).

A component is a small object with a `name`, a one-line `help`, the `params` it accepts (each with a
default value and, where searching makes sense, a default search range) and one method that builds
plain Keras objects. Plugins subclass these and register instances through the registration hooks.

A component may declare the tasks it is the default for (`default_for`): the core never names a
component; it asks the registry for "the default loss for a binary task" instead, so switching off a
built-in plugin gives a clear error rather than a crash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from automl.params import Param as Param  # re-exported, as are the declaring helpers
from automl.params import ParamType as ParamType
from automl.params import bool_param as bool_param
from automl.params import choice_param as choice_param
from automl.params import float_param as float_param
from automl.params import int_param as int_param
from automl.params import list_param as list_param
from automl.params import str_param as str_param

if TYPE_CHECKING:  # keras is imported lazily: `automl validate` should not pay for it
    import keras

    from automl.data import Dataset, Splits

TASKS = ("binary", "multiclass", "regression", "forecast")
CLASSIFICATION = ("binary", "multiclass")
#: tasks whose targets are numbers: one value (regression) or the next `horizon` values (forecast)
VALUES = ("regression", "forecast")


class Component(ABC):  # noqa: B024 - some kinds (regularizers) have only optional methods
    """Common base of all component kinds."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    #: Tasks the component fits; checked at `automl validate` time.
    tasks: ClassVar[tuple[str, ...]] = TASKS
    #: Tasks for which this component is used when a search space does not name one of its kind
    #: (e.g. a loss with `default_for = ("binary", "multiclass")`). Defaults to none.
    default_for: ClassVar[tuple[str, ...]] = ()

    def param(self, name: str) -> Param:
        """The declared parameter called `name`."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default value."""
        return {p.name: p.default for p in self.params}

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name!r}>"


# ---------------------------------------------------------------------------------------- kinds
class BaseDataSource(Component):
    """Loads a whole data set; the core splits it. Params come from `data.source` in YAML."""

    kind = "data_source"

    @abstractmethod
    def load(self, **params: Any) -> Dataset:
        """Return the full data set (features, targets, task, class names)."""
        ...

    def task(self, **params: Any) -> str | None:
        """The task these params give, when known without loading (for `automl validate`)."""
        return None

    def text_columns(self, **params: Any) -> tuple[str, ...]:
        """The input columns that hold free text, when known without loading: `automl validate`
        then asks for a preprocessor that `accepts_text`. A text column is one column of rank
        1 (one string per row); see `rank`. Defaults to none."""
        return ()

    def rank(self, **params: Any) -> int | None:
        """The rank of one example these params give (1 tabular, 2 sequences, 3 images; no
        batch axis), when known without loading, so that `automl validate` can check it
        against the model families' `input_ranks`. Defaults to `None` (unknown)."""
        return None


class BasePreprocessor(Component):
    """Fitted on the training split only; becomes a Keras layer inside the model."""

    kind = "preprocessor"
    #: True when it takes raw text (string columns of free text) and turns it into numbers (token
    #: ids or term vectors); a data source with text columns needs one. Defaults to `False`.
    accepts_text: ClassVar[bool] = False
    #: The rank of one example this step outputs, when it changes it (a projection that
    #: flattens images gives 1). Defaults to `None`: the rank it receives.
    output_rank: ClassVar[int | None] = None
    #: Whether this step fills missing values (NaN), so data with NaN may be trained on.
    fills_missing: ClassVar[bool] = False

    @abstractmethod
    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        """Fit on `x_train` (already passed through earlier steps) and return the layer."""
        ...


@dataclass
class BuildContext:
    """What a model family needs beyond its own params: the task and the chosen components."""

    task: str
    n_outputs: int
    input_shape: tuple[int, ...]
    make_activation: Callable[[], keras.layers.Layer]
    make_kernel_regularizer: Callable[[], Any]
    make_regularizer_layers: Callable[[], list[keras.layers.Layer]] = field(default=list)
    #: with token ids as inputs (integers, 0 = padding): how many distinct ids there are (the
    #: `input_dim` of an `Embedding`); `None` for other inputs
    vocabulary_size: int | None = None

    def activate(self, x: Any) -> Any:
        """Apply a fresh layer of the chosen activation."""
        return self.make_activation()(x)

    def regularize(self, x: Any) -> Any:
        """Apply the chosen layer regularizers (dropout, batch norm, noise) after a block."""
        for layer in self.make_regularizer_layers():
            x = layer(x)
        return x

    def kernel_regularizer(self) -> Any:
        """A fresh weight penalty for a Dense/Conv layer, or None."""
        return self.make_kernel_regularizer()


RANK_WORDS = {
    1: "tabular rows",
    2: "sequences (timesteps, features)",
    3: "images (height, width, channels)",
}


def rank_problem(family: str, accepted: tuple[int, ...], shape: tuple[int, ...] | int) -> str:
    """`lstm needs sequences (timesteps, features); got inputs of shape (5,) (tabular rows)`.

    Args:
        shape: the shape of one example, or only its rank when the data is not loaded.
    """
    wants = " or ".join(RANK_WORDS.get(r, f"inputs of rank {r}") for r in accepted)
    rank = shape if isinstance(shape, int) else len(shape)
    gives = RANK_WORDS.get(rank, f"rank {rank}")
    if isinstance(shape, int):
        got = f"the data gives {gives}"
    else:
        got = f"got inputs of shape {shape} ({gives})"
    return f"{family} needs {wants}; {got}. Choose a model family that takes this data"


class BaseModelFamily(Component):
    """Builds the body of a network: from the (preprocessed) input tensor to a feature tensor.

    The core adds the output head (softmax, sigmoid or linear units) that fits the task.
    """

    kind = "model_family"
    #: True when it takes token ids (integers of shape (sequence_length,), 0 = padding, from a
    #: text preprocessor; `ctx.vocabulary_size` is set), False for numeric features. Defaults to
    #: `False`.
    takes_tokens: ClassVar[bool] = False
    #: The ranks of one example (no batch axis) the family takes: (1,) tabular, (2,) sequences
    #: (timesteps, features), (3,) images (height, width, channels). A data source of another
    #: rank is an `automl validate` error. Defaults to `None`: any rank.
    input_ranks: ClassVar[tuple[int, ...] | None] = None

    def check_input(self, input_shape: tuple[int, ...]) -> str | None:
        """Return why this family cannot take inputs of `input_shape` (no batch axis), or None.

        Defaults to checking the rank against `input_ranks`."""
        if self.input_ranks is None or len(input_shape) in self.input_ranks:
            return None
        return rank_problem(self.name, self.input_ranks, input_shape)

    @abstractmethod
    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        """Return the feature tensor computed from `inputs`."""
        ...

    def callbacks(self, **params: Any) -> list[keras.callbacks.Callback]:
        """Return Keras callbacks the family needs during `fit` (e.g. unfreezing a pretrained
        backbone for fine-tuning). Defaults to none."""
        return []


class BaseActivation(Component):
    """An activation function, as a Keras layer."""

    kind = "activation"

    @abstractmethod
    def build(self, **params: Any) -> keras.layers.Layer:
        """Return a new activation layer."""
        ...


class BaseLoss(Component):
    """A training loss; sees the task to pick e.g. binary vs sparse categorical cross-entropy."""

    kind = "loss"

    @abstractmethod
    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        """Return a Keras loss (object or name) for `task`."""
        ...


class BaseRegularizer(Component):
    """A weight penalty and/or layers inserted after each hidden block."""

    kind = "regularizer"

    def kernel_regularizer(self, **params: Any) -> Any:
        """Return a Keras weight regularizer, or None."""
        return None

    def layers(self, **params: Any) -> list[keras.layers.Layer]:
        """Return new layers to insert after a hidden block (dropout, batch norm, ...)."""
        return []


class BaseOptimizer(Component):
    """A Keras optimizer."""

    kind = "optimizer"

    @abstractmethod
    def build(self, **params: Any) -> keras.optimizers.Optimizer:
        """Return a new optimizer."""
        ...

    def callbacks(self, **params: Any) -> list[keras.callbacks.Callback]:
        """Return Keras callbacks the optimizer needs during `fit` (learning-rate schedules,
        reduce on plateau). Defaults to none."""
        return []


class BaseMetric(Component):
    """An evaluation metric computed exactly on a split (scikit-learn on the predictions).

    `score` receives the true targets and the model output: class probabilities of shape
    (n, n_classes) for classification, values of shape (n,) for regression
    and (n, horizon) for forecasts.

    A metric of the model itself (its size, its speed) subclasses `BaseModelMeasure` instead: it
    declares `measures = "model"` and implements `measure(model, x)`.
    """

    kind = "metric"
    direction: ClassVar[Literal["maximize", "minimize"]] = "maximize"
    #: On a binary task, `automl export` chooses the decision threshold on P(class 1) that
    #: maximizes this metric on out-of-fold predictions (instead of 0.5). True for metrics of the
    #: predicted labels whose best threshold is not degenerate (accuracy, balanced accuracy, F1).
    tunes_threshold: ClassVar[bool] = False
    #: What the metric looks at: "predictions" (`score`, on the validation split after every
    #: epoch) or "model" (`measure`, once, on the trained model). Defaults to "predictions".
    measures: ClassVar[Literal["predictions", "model"]] = "predictions"

    @abstractmethod
    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """Return the metric value."""
        ...

    def fitted(self, splits: Splits) -> BaseMetric:
        """This metric for scoring `splits`: a metric scaled by the training data (MASE scales by
        the naive forecast's error on the training series) returns a copy that knows it.
        Defaults to `self`."""
        return self

    def measure(self, model: keras.Model, x: Any) -> float:
        """Return the metric value of a trained model (metrics with `measures = "model"`)."""
        raise NotImplementedError(f"metric {self.name!r} scores predictions; it measures no model")


class BaseModelMeasure(BaseMetric):
    """A metric of the trained model rather than of its predictions: size, speed, cost.

    It is measured once per trial, after training, on the model with its preprocessing (the one
    that would be exported); it cannot drive early stopping or pruning, since it does not change
    while the model trains. `x` is a few validation rows, as the model takes them. Its direction
    defaults to "minimize".
    """

    direction: ClassVar[Literal["maximize", "minimize"]] = "minimize"
    measures: ClassVar[Literal["predictions", "model"]] = "model"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise TypeError(f"metric {self.name!r} measures the model, not predictions: use measure()")

    @abstractmethod
    def measure(self, model: keras.Model, x: Any) -> float:
        """Return the metric value of `model` (`x`: validation rows it can be called on)."""
        ...


def maximizes(direction: Any) -> bool:
    """Whether a direction prefers larger values: "maximize" / "minimize", or Optuna's
    `StudyDirection` (the one place a direction is compared)."""
    name = str(getattr(direction, "name", direction)).lower()
    if name not in ("maximize", "minimize"):
        raise ValueError(
            f"a direction must be 'maximize' or 'minimize'. Received: direction={direction!r}"
        )
    return name == "maximize"


KINDS: dict[str, type[Component]] = {
    cls.kind: cls
    for cls in (
        BaseDataSource,
        BasePreprocessor,
        BaseModelFamily,
        BaseActivation,
        BaseLoss,
        BaseRegularizer,
        BaseOptimizer,
        BaseMetric,
    )
}
