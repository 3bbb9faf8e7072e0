"""The report's text sections (summary, card, leaderboard, failures), small helpers and CSS."""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


def _summary_html(
    study: optuna.Study, trials: list[FrozenTrial], metric_names: list[str], n_figures: int
) -> str:
    counts = {state: 0 for state in TrialState}
    for t in trials:
        counts[t.state] += 1
    states = ", ".join(f"{n} {s.name.lower()}" for s, n in counts.items() if n) or "none"
    objectives = ", ".join(
        f"{m} ({d.name.lower()})" for m, d in zip(metric_names, study.directions, strict=True)
    )
    items = [
        f"<li>Study <b>{_e(study.study_name)}</b>; objective: {_e(objectives)}</li>",
        f"<li>{len(trials)} trials: {_e(states)}</li>",
    ]
    best = study.best_trials if counts[TrialState.COMPLETE] else []
    if len(study.directions) == 1 and best:
        items.append(
            f"<li>Best: trial {best[0].number}, {_e(metric_names[0])} {_num(best[0].value)}</li>"
        )
    elif best:
        numbers = ", ".join(str(t.number) for t in best)
        items.append(f"<li>Pareto-optimal trials: {_e(numbers)}</li>")
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    items.append(f"<li>{n_figures} figures; generated {now} with Optuna {optuna.__version__}</li>")
    return f'<ul class="summary">{"".join(items)}</ul>'


def _card_html(card: dict[str, Any], study_name: str) -> str:
    """The exported model in a few lines: trial, scores, data, parameters."""
    metric = card.get("metric", "score")
    items = [
        f"Trial {_e(card.get('trial', '?'))} of study {_e(card.get('study', '?'))}"
        + (f", exported {_e(card['exported_at'])}" if card.get("exported_at") else ""),
        f"Validation {_e(metric)}: {_num(card.get('validation_score'))}; "
        f"test {_e(metric)}: {_num(card.get('test_score'))}",
    ]
    data = card.get("data")
    if isinstance(data, dict):
        items.append(
            f"Task: {_e(card.get('task', '-'))}; data: {_e(data.get('name') or '-')} "
            f"({_e(data.get('train_rows', '?'))} train / {_e(data.get('validation_rows', '?'))} "
            f"validation / {_e(data.get('test_rows', '?'))} test rows)"
        )
    if card.get("retrained"):
        items.append("Retrained on train + validation after tuning")
    params = card.get("params") or {}
    items.append(
        "Parameters: "
        + (", ".join(f"<code>{_e(k)}</code>={_e(_short(v))}" for k, v in params.items()) or "-")
    )
    warning = ""
    if card.get("study") != study_name:
        warning = (
            f'<p class="warn">This model card is of study {_e(card.get("study"))}, '
            f"not of the study of this report ({_e(study_name)}).</p>"
        )
    lis = "".join(f"<li>{item}</li>" for item in items)
    return f'<h2>Exported model</h2>{warning}<ul class="card">{lis}</ul>'


def _table_html(rows: list[dict[str, Any]], metric_names: list[str]) -> str:
    if not rows:
        return '<p class="note">No finished trial yet.</p>'
    head = ["rank", "trial", *metric_names, "state", "epochs", "time", "parameters", "reason"]
    lines = ["<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        values = r.get("values")  # several objectives: {metric: value}
        scores = _scores(list(values.values()) if values else r.get("score"), len(metric_names))
        params = " ".join(
            f"<code>{_e(k)}</code>={_e(_short(v))}" for k, v in (r.get("params") or {}).items()
        )
        duration = r.get("duration")
        cells = [
            _e(r.get("rank") or "-"),
            _e(r.get("trial")),
            *(_num(s) for s in scores),
            _e(r.get("state")),
            _e(r.get("epochs") or "-"),
            f"{duration:.1f}s" if isinstance(duration, (int, float)) else "-",
            params or "-",
            _e(r.get("reason") or ""),
        ]
        lines.append(
            f'<tr class="state-{_e(r.get("state"))}" data-trial="{_e(r.get("trial"))}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    return f'<div class="table"><table>{"".join(lines)}</tbody></table></div>'


def _failures_html(rows: list[dict[str, Any]]) -> str:
    """Failed and pruned trials grouped by reason: the most frequent reason first."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        if r.get("state") in ("fail", "pruned"):
            key = (str(r["state"]), str(r.get("reason") or "no reason recorded"))
            groups.setdefault(key, []).append(r.get("trial"))
    if not groups:
        return '<p class="note">No failed or pruned trial.</p>'
    items = []
    for (state, reason), numbers in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        which = ", ".join(str(n) for n in numbers)
        noun = "trial" if len(numbers) == 1 else "trials"
        items.append(
            f'<li class="state-{_e(state)}"><b>{_e(state)}</b>: {len(numbers)} {noun} '
            f"({_e(which)}): <span class=reason>{_e(reason)}</span></li>"
        )
    return f'<ul class="failures">{"".join(items)}</ul>'


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _scores(score: Any, n: int) -> Sequence[Any]:
    if isinstance(score, (list, tuple)):
        return list(score) + [None] * (n - len(score))
    return [score] + [None] * (n - 1)


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else _e(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328}
main{max-width:1400px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0} h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:14px;margin:4px 0}
ul.summary,ul.card{margin:4px 0;padding-left:20px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
.plot{border:1px solid #d0d7de;border-radius:6px;padding:8px;min-width:0}
.plot.wide{grid-column:1/-1}
.note{color:#57606a;font-style:italic} .warn{color:#9a6700}
.table{max-height:440px;overflow:auto;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{position:sticky;top:0;background:#f6f8fa;text-align:left}
th,td{padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
tr.state-pruned td{color:#57606a} tr.state-fail td{color:#cf222e}
code{font-size:12px;background:#f6f8fa;padding:0 2px;border-radius:3px}
"""
