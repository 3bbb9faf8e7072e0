"""`MODEL_CARD.md`: the model card for people, written from `model.json`.

It leads with what a reader needs to trust the model: the estimate with its spread and how it
was made, the test score with its interval and the gap between them, the decision threshold,
and what the model is (one trial, a bag of fold models, an ensemble: members, weights, size,
latency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl.export._usage import files_markdown, loading_markdown

KINDS = {
    "trial": "the tuned trial's own weights",
    "bag": "the {k} fold models of trial {trial}, averaged (bagging)",
    "ensemble": "a greedy ensemble (Caruana et al., 2004) of trials {trials}",
    "single": "one model retrained on all {rows} development rows for {epochs} epochs",
}


def model_card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable summary of `model.json`."""
    title = f"# Model card: {card['study']}, trial {card['trial']}"
    if card["export"]["kind"] == "ensemble":
        title = f"# Model card: {card['study']}, ensemble of trials {_trials(card)}"
    lines = [title, "", *_summary(card), *_members(card)]
    lines += ["", "## Parameters", ""]
    lines += [f"- `{k}`: {v}" for k, v in card["params"].items()] or ["- (none searched)"]
    lines += ["", f"## Evaluation on the {card['evaluation']['split']} split", ""]
    lines += _evaluation(card["evaluation"])
    lines += ["", "## Files", "", *files_markdown(card)]
    lines += ["", "## Loading", "", "With automl: `automl.load(DIR).predict(x)`, or"]
    lines += ["`automl predict DIR INPUT`. With each format's own library:", ""]
    lines += loading_markdown(card)
    lines += [f"Keras backend {card['keras_backend']}; versions in `model.json`.", ""]
    return "\n".join(lines)


def export_summary(card: dict[str, Any], out: Path) -> str:
    """The line `automl export` prints: what was exported, the estimate, the test score."""
    export, metric, estimate = card["export"], card["metric"], card["estimate"]
    what = {
        "trial": f"trial {card['trial']}",
        "bag": f"trial {card['trial']} ({len(export['members'])} fold models averaged)",
        "ensemble": "an ensemble of trials "
        + ", ".join(dict.fromkeys(str(m["trial"]) for m in export["members"])),
        "single": f"trial {card['trial']} (retrained on all training rows)",
    }[export["kind"]]
    std = f" ±{estimate['std']:.4f}" if estimate.get("std") is not None else ""
    text = f"exported {what} to {out}: estimate {metric} {estimate['mean']:.4f}{std}"
    if card["test_score"] is not None:
        text += f", test {metric} {card['test_score']:.4f}"
    if card.get("threshold"):
        text += f" (decision threshold {card['threshold']['value']:.3f})"
    return text


def _num(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else "-" if v is None else str(v)


def _trials(card: dict[str, Any]) -> str:
    return ", ".join(dict.fromkeys(str(m["trial"]) for m in card["export"]["members"]))


def _summary(card: dict[str, Any]) -> list[str]:
    """The bullet points under the title: data, input, scores, threshold, model, classes."""
    data, schema, metric = card["data"], card["input_schema"], card["metric"]
    names = schema.get("feature_names") or []
    columns = f", columns {', '.join(names[:12])}" + (" ..." if len(names) > 12 else "")
    folds = f" in {data['folds']} folds" if data.get("folds", 1) > 1 else ""
    lines = [
        f"- Task: {card['task']}; data: {data['name'] or '-'} "
        f"({data['development_rows']} development rows{folds} / {data['test_rows']} test rows)",
        f"- Input: {schema['kind']}, shape {tuple(schema['shape'])}, {schema['dtype']}"
        + (columns if names else ""),
        _estimate(card["estimate"], metric),
        _test(card, metric),
    ]
    if card.get("threshold"):
        t = card["threshold"]
        positive = (card["class_labels"] or ["0", "1"])[1]
        lines.append(
            f"- Decision threshold: class {positive!r} when its probability is >= "
            f"{t['value']:.4f}, chosen on {t['rows']} out-of-fold rows ({metric} "
            f"{t['score_at_0.5']:.4f} at 0.5, {t['score']:.4f} at the threshold). `predict` "
            "applies it; `predict_proba` is the raw model output"
        )
    lines.append(_model(card))
    if card["class_labels"]:
        lines.append(f"- Classes: {', '.join(card['class_labels'])}")
    return lines


def _estimate(estimate: dict[str, Any], metric: str) -> str:
    spread = f" ± {estimate['std']:.4f}" if estimate.get("std") is not None else ""
    return f"- Estimate: {metric} {_num(estimate['mean'])}{spread}, from {estimate['method']}"


def _test(card: dict[str, Any], metric: str) -> str:
    if card["test_score"] is None:
        return "- Test: no test split (`data.test: 0`)"
    text = f"- Test {metric}: {card['test_score']:.4f}"
    interval = card.get("test_interval") or {}
    if interval.get("low") is not None:
        text += (
            f" ({interval['level']:.0%} bootstrap interval {interval['low']:.4f} to "
            f"{interval['high']:.4f})"
        )
    if card.get("gap") is not None:
        text += f"; gap (estimate - test): {card['gap']:+.4f}"
    return text


def _model(card: dict[str, Any]) -> str:
    export, r = card["export"], card.get("retrained") or {}
    what = KINDS[export["kind"]].format(
        k=len(export["members"]),
        trial=card["trial"],
        trials=_trials(card),
        rows=r.get("train_rows"),
        epochs=r.get("epochs"),
    )
    latency = (card.get("formats") or {}).get("keras", {}).get("latency") or {}
    timing = (
        f"; Keras {latency['ms_single_row']:.2f} ms for one row, "
        f"{latency['ms_per_row_in_batch']:.3f} ms per row in batches of {latency['batch_rows']}"
        if latency
        else ""
    )
    return f"- Model: {what}; {export['parameters']:,} parameters{timing}"


def _members(card: dict[str, Any]) -> list[str]:
    members = card["export"]["members"]
    if len(members) < 2:
        return []
    lines = ["", "## Members", "", "| trial | fold | weight |", "|---|---|---|"]
    return lines + [f"| {m['trial']} | {m['fold']} | {m['weight']:.4f} |" for m in members]


def _evaluation(ev: dict[str, Any]) -> list[str]:
    """Per-class precision and recall for classifiers; MAE, RMSE and R2 for regression; the
    errors of a forecast beside its naive baselines'."""
    if not ev.get("rows"):
        return ["No rows to evaluate on (no test split and no out-of-fold predictions)."]
    if "baselines" in ev:
        rows = {"this model": ev, **ev["baselines"]}
        lines = ["| forecast | MAE | RMSE | MAPE | MASE |", "|---|---|---|---|---|"]
        return lines + [
            f"| {name} | {_num(e['mae'])} | {_num(e['rmse'])} | {_num(e['mape'])} | "
            f"{_num(e['mase'])} |"
            for name, e in rows.items()
        ]
    if "per_class" not in ev:
        return [f"MAE {_num(ev['mae'])}, RMSE {_num(ev['rmse'])}, R2 {_num(ev['r2'])}"]
    lines = ["| class | precision | recall | support |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['support']} |"
        for name, m in ev["per_class"].items()
    ]
    return [
        *lines,
        "",
        "Confusion matrix (rows: true class, columns: predicted) is in `model.json`.",
    ]


__all__ = ["export_summary", "model_card_markdown"]
