"""The one table of Optuna samplers and pruners by short name, and their construction.

`automl.spec` checks names and options against it at `validate` time; `automl.storage` builds them
when a study opens. Optuna's own classes and keyword options are used as they are.

The default sampler is `tpe` for one objective and for several: Optuna's TPESampler becomes
MOTPE on a multi-objective study (and reads the trials' constraints), and it learns from the first
10 trials on, where NSGA-II (`nsgaii`) does nothing but random sampling for its first generation
(50 trials by default). automl studies are tens of trials of seconds to minutes each: TPE's
budget. `nsgaii` is there for studies of hundreds of trials; `cmaes` cannot run several
objectives (refused at `validate` time). Optuna cannot prune a multi-objective study
(`Trial.report` refuses it), so its pruner is always `none`.
"""

from __future__ import annotations

import importlib.util
import inspect
from typing import Any

import optuna

from automl.errors import AutoMLError

#: short name -> Optuna sampler class
SAMPLERS: dict[str, type[optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "grid": optuna.samplers.GridSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "gp": optuna.samplers.GPSampler,
    "qmc": optuna.samplers.QMCSampler,
    "nsgaii": optuna.samplers.NSGAIISampler,
}
#: samplers that cannot run a study of several objectives (Optuna raises when it starts one)
SINGLE_OBJECTIVE_ONLY = frozenset({"cmaes"})
#: short name -> Optuna pruner class
PRUNERS: dict[str, type[optuna.pruners.BasePruner]] = {
    "none": optuna.pruners.NopPruner,
    "median": optuna.pruners.MedianPruner,
    "percentile": optuna.pruners.PercentilePruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "patient": optuna.pruners.PatientPruner,
    "threshold": optuna.pruners.ThresholdPruner,
}


def option_names(cls: type) -> list[str]:
    """The keyword options a sampler or pruner class accepts."""
    return [p for p in inspect.signature(cls).parameters if p != "self"]


def make_sampler(
    name: str,
    options: dict[str, Any],
    seed: int | None,
    grid: dict[str, list[Any]] | None = None,
) -> optuna.samplers.BaseSampler:
    """The sampler `name`, seeded with `seed` unless its options set one.

    Args:
        name: a key of `SAMPLERS`.
        options: Optuna's keyword options for it.
        seed: the seed to use when `options` has none. Defaults to no seed.
        grid: the search space of the grid sampler (`automl.space.grid_search_space`).
    """
    options = dict(options)
    if seed is not None:
        options.setdefault("seed", seed)
    if name == "gp" and importlib.util.find_spec("torch") is None:
        raise AutoMLError(
            "sampler 'gp' needs a package that is not installed: Optuna's GPSampler runs on "
            "PyTorch (pip install torch); or choose tpe, random, grid, cmaes or qmc"
        )
    try:
        if name == "grid":
            return optuna.samplers.GridSampler(grid or {}, **options)
        return SAMPLERS[name](**options)
    except ImportError as exc:
        raise AutoMLError(f"sampler {name!r} needs a package that is not installed: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise AutoMLError(f"sampler {name!r}: {exc}") from exc


def make_pruner(name: str, options: dict[str, Any]) -> optuna.pruners.BasePruner:
    """The pruner `name` with Optuna's keyword `options` (median waits 2 epochs by default)."""
    options = dict(options)
    if name == "patient":
        options.setdefault("wrapped_pruner", optuna.pruners.MedianPruner())
    if name == "median":
        options.setdefault("n_warmup_steps", 2)
    try:
        return PRUNERS[name](**options)
    except (TypeError, ValueError) as exc:
        raise AutoMLError(f"pruner {name!r}: {exc}") from exc
