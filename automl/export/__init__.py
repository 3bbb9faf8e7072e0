"""Best trial -> a self-contained, verified artifact directory.

The directory holds `model.keras` (always; the fitted preprocessing layers are inside it, so the
model takes raw inputs), optionally a TensorFlow SavedModel, an ONNX file and a TFLite/LiteRT
file, plus the model card `model.json` and `MODEL_CARD.md`. Every file written is loaded back and
its predictions on the test split are compared with the Keras model; a format that disagrees is
an error, not a silent file. The directory is written to a temporary sibling and moved into place
only once complete.

Private modules, one job each: `_source` (which trial, and its model: checkpoint or retrained),
`_config` (reading the trial's recorded configuration), `_formats` (one writer per format, load
back and compare), `_card` (`model.json`, `MODEL_CARD.md`, evaluation, input schema, versions,
plugins) and `_atomic` (the all-at-once directory write); `_artifact` runs them in order.
"""

from __future__ import annotations

from automl.export._artifact import export_model
from automl.export._formats import FORMATS, parse_formats
from automl.export._markdown import export_summary

__all__ = ["FORMATS", "export_model", "export_summary", "parse_formats"]
