"""automl-resmlp: an example third-party automl plugin.

The entry point `resmlp` (group `automl`) points at `automl_resmlp.plugin`, which registers a
residual MLP model family, the Poly-1 loss and the G-mean metric. The custom Keras objects they
build live in `automl_resmlp.keras_objects`, registered as serializable under the package name
`automl_resmlp`, so exported models reload wherever this package is installed.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

#: The example search space shipped inside the package.
SPACE = Path(__file__).parent / "spaces" / "wine_resmlp.yaml"

__all__ = ["SPACE", "__version__"]
