"""automl: a plugin-based AutoML tuner for Keras.

Public API::

    import automl
    result = automl.tune("search_spaces/digits_cnn.yaml", trials=10)
    automl.export_model("search_spaces/digits_cnn.yaml", "runs/digits-cnn/best")
    labels = automl.load("runs/digits-cnn/best").predict(x)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl.components import (
    BaseActivation,
    BaseDataSource,
    BaseLoss,
    BaseMetric,
    BaseModelFamily,
    BaseOptimizer,
    BasePreprocessor,
    BaseRegularizer,
    BuildContext,
    Param,
    bool_param,
    choice_param,
    float_param,
    int_param,
    str_param,
)
from automl.errors import (
    AutoMLError,
    PluginError,
    SpecError,
    StudyError,
    TrialFailed,
    UnknownComponentError,
)
from automl.hookspecs import hookimpl

__version__ = "0.1.0"

if TYPE_CHECKING:
    from automl.leaderboard import TuneResult
    from automl.serving import LoadedModel
    from automl.spec import Spec


def load_spec(path: str, plugins: tuple[str, ...] = ()) -> Spec:
    """Read and validate a YAML search space (see `automl.spec.load_spec`)."""
    from automl.spec import load_spec as _load_spec

    return _load_spec(path, plugins)


def tune(space: Any, **kwargs: Any) -> TuneResult:
    """Tune a search space (see `automl.study.tune`)."""
    from automl.study import tune as _tune

    return _tune(space, **kwargs)


def export_model(space: Any, out: str, **kwargs: Any) -> Any:
    """Export the best model of a tuned space (see `automl.export.export_model`).

    (Not called `export`: that name is the `automl.export` module.)
    """
    from automl.export import export_model as _export_model

    return _export_model(space, out, **kwargs)


def load(directory: Any, plugins: tuple[str, ...] = ()) -> LoadedModel:
    """Load an exported model directory: `automl.load(DIR).predict(x)` (see `automl.serving`)."""
    from automl.serving import load as _load

    return _load(directory, plugins)


__all__ = [
    "AutoMLError",
    "BaseActivation",
    "BaseDataSource",
    "BaseLoss",
    "BaseMetric",
    "BaseModelFamily",
    "BaseOptimizer",
    "BasePreprocessor",
    "BaseRegularizer",
    "BuildContext",
    "Param",
    "PluginError",
    "SpecError",
    "StudyError",
    "TrialFailed",
    "UnknownComponentError",
    "__version__",
    "bool_param",
    "choice_param",
    "export_model",
    "float_param",
    "hookimpl",
    "int_param",
    "load",
    "load_spec",
    "str_param",
    "tune",
]
