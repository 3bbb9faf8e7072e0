"""The report's figures: Optuna's own plots and one plotly figure of per-epoch learning curves."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.report._html import _finite, _is_number

#: Per-epoch curves read from the trial user attribute `history`, in plotting order:
#: (key, subplot column, line dash).
CURVES = (("loss", 1, "solid"), ("val_loss", 1, "dot"), ("score", 2, "solid"))
HISTORY_ATTR = "history"
_PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
)  # fmt: skip
_WIDE = {"Parallel coordinates", "Learning curves"}


def _plots(
    study: optuna.Study, trials: list[FrozenTrial], metric_names: list[str]
) -> list[tuple[str, Any]]:
    """(title, plotly figure or a note saying why there is none), in page order."""
    import optuna.visualization as vis

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    multi = len(study.directions) > 1
    target: dict[str, Any] = {"target_name": metric_names[0]}
    if multi:  # Optuna's single-objective plots need the objective to show
        target["target"] = _first_value
    plots: list[tuple[str, Any]] = []
    none_yet = "No complete trial yet."
    history = vis.plot_optimization_history(study, **target) if complete else none_yet
    plots.append(("Optimization history", history))
    searched = _searched(complete)
    if len(complete) < 2 or not searched:
        why = (
            f"Needs at least 2 complete trials (found {len(complete)})"
            if len(complete) < 2
            else "Needs a parameter searched by every complete trial (none is)"
        )
        plots.append(("Parameter importances", why + " to estimate importances."))
    else:
        plots.append(("Parameter importances", _importances(study, target)))
    if complete and any(t.params for t in complete):
        plots.append(("Parallel coordinates", vis.plot_parallel_coordinate(study, **target)))
    else:
        plots.append(("Parallel coordinates", none_yet if not complete else "No parameter."))
    if multi:
        plots.append(("Pareto front", _pareto(study, complete, metric_names)))
    curves = _learning_curves(trials, metric_names[0])
    plots.append(("Learning curves", curves if curves is not None else "No per-epoch values."))
    return plots


def _first_value(trial: FrozenTrial) -> float:
    return trial.values[0]


def _searched(complete: list[FrozenTrial]) -> list[str]:
    """Parameters every complete trial sampled from a range of more than one value."""
    if not complete:
        return []
    space = optuna.search_space.intersection_search_space(complete)
    return [name for name, dist in space.items() if not dist.single()]


def _importances(study: optuna.Study, target: dict[str, Any]) -> Any:
    """fANOVA importances (seeded, so the page is reproducible), or a note when they fail."""
    import optuna.visualization as vis
    from optuna.importance import FanovaImportanceEvaluator

    try:
        return vis.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=0), **target
        )
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        return f"Importances could not be estimated: {type(exc).__name__}: {exc}"


def _pareto(study: optuna.Study, complete: list[FrozenTrial], metric_names: list[str]) -> Any:
    import optuna.visualization as vis

    if not complete:
        return "No complete trial yet."
    if len(metric_names) > 3:
        return (
            f"A Pareto front is plotted for 2 or 3 objectives; this study has {len(metric_names)}."
        )
    return vis.plot_pareto_front(study, target_names=list(metric_names))


def trial_curves(trial: FrozenTrial) -> dict[str, list[float | None]]:
    """Per-epoch loss, val_loss and score of a trial: its `history` attribute, else its reported
    intermediate values (the score at each epoch). Non-finite values become gaps (None)."""
    history = trial.user_attrs.get(HISTORY_ATTR)
    curves: dict[str, list[float | None]] = {}
    if isinstance(history, dict):
        for key, _, _ in CURVES:
            values = history.get(key)
            if isinstance(values, list) and values and all(_is_number(v) for v in values):
                curves[key] = [_finite(v) for v in values]
    if "score" not in curves and trial.intermediate_values:
        steps = sorted(trial.intermediate_values)
        # steps are 0-based epochs; a gap in them stays a gap in the curve
        scores: list[float | None] = [None] * (steps[-1] + 1)
        for step in steps:
            scores[step] = _finite(trial.intermediate_values[step])
        curves["score"] = scores
    return curves


def _learning_curves(trials: list[FrozenTrial], metric: str) -> Any:
    """One figure: loss (solid) and val_loss (dotted) on the left, the score on the right."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("loss (solid: training, dotted: validation)", f"{metric} (validation)"),
    )
    shown = 0
    for trial in trials:
        curves = trial_curves(trial)
        if not curves:
            continue
        name = f"trial {trial.number} ({trial.state.name.lower()})"
        color = _PALETTE[shown % len(_PALETTE)]
        first = True
        for key, col, dash in CURVES:
            if key not in curves:
                continue
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(curves[key]) + 1)),
                    y=curves[key],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=first,
                    meta=key,
                    line={"color": color, "dash": dash},
                    marker={"size": 4},
                    hovertemplate=f"{name} {key}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            first = False
        shown += 1
    if not shown:
        return None
    longest = max(len(trace.x) for trace in fig.data)
    fig.update_xaxes(title_text="epoch", dtick=1 if longest <= 20 else None)
    fig.update_layout(height=460)
    return fig


def _figure_html(fig: Any, number: int) -> str:
    """One figure as a `<div>` and its script; plotly.js itself is in the page's head."""
    import plotly.io as pio

    fig.update_layout(title_text=None, margin_t=40)  # the section's heading is the title
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"figure-{number}",
        config={"displaylogo": False, "responsive": True},
        default_height="460px",
    )
