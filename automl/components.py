"""Base classes of every component kind and the `Param` declaration they use.

A component is a small object with a `name`, a one-line `help`, the `params` it accepts (each with a
default value and, where searching makes sense, a default search range) and one method that builds
plain Keras objects. Plugins subclass these and register instances through the registration hooks.

A component may declare the tasks it is the default for (`default_for`): the core never names a
component; it asks the registry for "the default loss for a binary task" instead, so switching off a
built-in plugin gives a clear error rather than a crash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:  # keras is imported lazily: `automl validate` should not pay for it
    import keras

    from automl.data import Dataset

ParamType = Literal["int", "float", "categorical", "bool", "str"]
TASKS = ("binary", "multiclass", "regression")
CLASSIFICATION = ("binary", "multiclass")


@dataclass(frozen=True)
class Param:
    """A component parameter: its type, default value, default search range and help.

    A YAML file that names the component without this parameter gets the default search range when
    one is declared (`low`/`high` or `choices`), else the fixed `default`.

    Args:
        name: the key used in YAML and in `build(..., **params)`.
        type: one of "int", "float", "categorical", "bool", "str".
        default: the value used when the parameter is fixed and not given.
        help: one line for `automl space` and `automl plugins`.
        low, high, log, step: the default numeric search range. Defaults to `None` (not searched).
        choices: the default categorical choices, or the allowed values of a "str" parameter.
        bounds: the closed interval every value must lie in (validated). Defaults to `None`.
    """

    name: str
    type: ParamType
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    bounds: tuple[float | None, float | None] | None = None

    @property
    def searched_by_default(self) -> bool:
        """True when the plugin declared a default search range for this parameter."""
        if self.type == "categorical":
            return self.choices is not None and len(self.choices) > 1
        return self.low is not None and self.high is not None

    def default_range(self) -> dict[str, Any] | list[Any] | None:
        """The default search range in YAML form (a dict for numbers, a list for choices)."""
        if not self.searched_by_default:
            return None
        if self.type == "categorical":
            return list(self.choices or ())
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def check_value(self, value: Any) -> str | None:
        """Return why `value` is not acceptable for this parameter, or None when it is."""
        if self.type == "bool":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                return f"expected an integer, got {value!r}"
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                return f"expected a number, got {value!r}"
        elif self.type == "str" and self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            return f"expected one of {allowed}, got {value!r}"
        if (
            self.bounds is not None
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            lo, hi = self.bounds
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return f"expected a value in [{_fmt(lo, '-inf')}, {_fmt(hi, 'inf')}], got {value!r}"
        return None


def _fmt(bound: float | None, unbounded: str) -> str:
    return unbounded if bound is None else f"{bound:g}"


def int_param(name: str, default: int, help: str, **kw: Any) -> Param:
    """Declare an integer parameter (see `Param`)."""
    return Param(name, "int", default, help, **kw)


def float_param(name: str, default: float, help: str, **kw: Any) -> Param:
    """Declare a float parameter (see `Param`)."""
    return Param(name, "float", default, help, **kw)


def choice_param(name: str, default: Any, help: str, choices: Sequence[Any] | None = None) -> Param:
    """Declare a categorical parameter searched over `choices` by default."""
    return Param(name, "categorical", default, help, choices=tuple(choices) if choices else None)


def str_param(name: str, default: str, help: str, allowed: Sequence[str] | None = None) -> Param:
    """Declare a fixed string parameter; `allowed` lists the accepted values."""
    return Param(name, "str", default, help, choices=tuple(allowed) if allowed else None)


def bool_param(name: str, default: bool, help: str) -> Param:
    """Declare a boolean parameter."""
    return Param(name, "bool", default, help)


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


class BasePreprocessor(Component):
    """Fitted on the training split only; becomes a Keras layer inside the model."""

    kind = "preprocessor"

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


class BaseModelFamily(Component):
    """Builds the body of a network: from the (preprocessed) input tensor to a feature tensor.

    The core adds the output head (softmax, sigmoid or linear units) that fits the task.
    """

    kind = "model_family"

    def check_input(self, input_shape: tuple[int, ...]) -> str | None:
        """Return why this family cannot take inputs of `input_shape` (no batch axis), or None."""
        return None

    @abstractmethod
    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        """Return the feature tensor computed from `inputs`."""
        ...


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
    (n, n_classes) for classification, values of shape (n,) for regression.
    """

    kind = "metric"
    direction: ClassVar[Literal["maximize", "minimize"]] = "maximize"
    #: On a binary task, `automl export` chooses the decision threshold on P(class 1) that
    #: maximizes this metric on out-of-fold predictions (instead of 0.5). True for metrics of the
    #: predicted labels whose best threshold is not degenerate (accuracy, balanced accuracy, F1).
    tunes_threshold: ClassVar[bool] = False

    @abstractmethod
    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """Return the metric value."""
        ...


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
