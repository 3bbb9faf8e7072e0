"""automl: a plugin-based AutoML tuner for Keras.

Public API::

    import automl
    result = automl.tune("search_spaces/digits_cnn.yaml", trials=10)
    automl.export_model("search_spaces/digits_cnn.yaml", "runs/digits-cnn/best")
    labels = automl.load("runs/digits-cnn/best").predict(x)

    result = automl.tune({"model": {"mlp": {}}}, x=x, y=y)  # arrays (or data=frame, target=)
    model = result.best_model()  # a keras.Model, preprocessing inside
    result.export("runs/mine/best")

scikit-learn estimators: `from automl.sklearn import AutoClassifier, AutoRegressor`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from automl.components import (
    BaseActivation,
    BaseDataSource,
    BaseLoss,
    BaseMetric,
    BaseModelFamily,
    BaseModelMeasure,
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
    DataError,
    PluginError,
    SpecError,
    StudyError,
    TrialFailed,
    UnknownComponentError,
)
from automl.hookspecs import hookimpl

__version__ = "0.1.0"

if TYPE_CHECKING:  # the real functions, imported lazily below (importing Keras takes seconds)
    from automl.export import export_model
    from automl.result import TuneResult
    from automl.serving import load
    from automl.spec import load_spec
    from automl.study import tune

#: public name -> the module that defines it; `automl.tune` is `automl.study.tune` itself, with its
#: real signature, imported on first use (PEP 562) so that `import automl` stays light.
_LAZY = {
    "export_model": "automl.export",  # not `export`: that name is the automl.export package
    "load": "automl.serving",
    "TuneResult": "automl.result",
    "load_spec": "automl.spec",
    "tune": "automl.study",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'automl' has no attribute {name!r}")


__all__ = [
    "AutoMLError",
    "BaseActivation",
    "BaseDataSource",
    "BaseLoss",
    "BaseMetric",
    "BaseModelFamily",
    "BaseModelMeasure",
    "BaseOptimizer",
    "BasePreprocessor",
    "BaseRegularizer",
    "BuildContext",
    "DataError",
    "Param",
    "PluginError",
    "SpecError",
    "StudyError",
    "TrialFailed",
    "TuneResult",
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
