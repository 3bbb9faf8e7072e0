"""Best trial -> a self-contained, verified artifact directory.

The directory holds `model.keras` (always; the fitted preprocessing layers are inside it, so the
model takes raw inputs), optionally a TensorFlow SavedModel, an ONNX file and a TFLite/LiteRT
file, plus the model card `model.json` and `MODEL_CARD.md`. Every file written is loaded back and
its predictions on the test split are compared with the Keras model; a format that disagrees is
an error, not a silent file. The directory is written to a temporary sibling and moved into place
only once complete.

Private modules, one job each: `_source` (which trial or trials, and their model: a trial's own
weights, its fold models averaged, a greedy ensemble, or retrained), `_ensemble` (several models
as one Keras model; greedy ensemble selection), `_estimate` (the decision threshold, the
cross-validated estimate, the test score's bootstrap interval), `_config` (reading the trial's
recorded configuration), `_formats` (per format a saver and its runtime: write, load back,
compare, time; which formats `all` can give this model), `_card` (`model.json`: evaluation,
input schema, versions, plugins), `_markdown` (`MODEL_CARD.md`), `_usage` (the loading snippet
of each format, sizes and latency in the card) and `_atomic` (the all-at-once directory write,
readable by others); `_artifact` runs them in order.
"""

from __future__ import annotations

from automl.export._artifact import export_model
from automl.export._formats import FORMATS, parse_formats
from automl.export._markdown import export_summary
from automl.export._source import ExportedModel, choose_model

__all__ = [
    "FORMATS",
    "ExportedModel",
    "choose_model",
    "export_model",
    "export_summary",
    "parse_formats",
]
