"""Data larger than memory: tune an image folder streamed from disk, with resident memory flat in
the folder's size, against the same folder loaded into memory.

    .venv/bin/python benchmarks/streaming.py                      # 5,000 and 20,000 images
    .venv/bin/python benchmarks/streaming.py --sizes 1000 4000 --repeats 1   # a quick look

Writes a folder of generated 32x32 RGB PNGs in two classes (reddish and bluish noise; the
largest size once, the smaller ones as symlinked subsets of it), then for each size runs one
`automl tune` in a fresh process per mode: `stream_above_mb: 0` (rows are file paths, decoded
one batch at a time for training and validation scoring; min_max adapts on a 2,048-row sample)
and `stream_above_mb: 1e9` (every image decoded into one float32 array first, as before). Same
space otherwise: a small CNN, 1 trial of 1 epoch, batch 64. The modes alternate in order between
repeats. Prints the peak resident memory (VmHWM) of each run and, per mode, the ratio of the
largest folder's peak to the smallest's: flat means about 1.0x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPACE = """
study: {{name: stream, trials: 1, sampler: random, pruner: none, seed: 0, keep_checkpoints: 1}}
data:
  source: {{image_folder: {{path: {folder}, height: 32, width: 32, channels: 3,
                            stream_above_mb: {stream}}}}}
  folds: 1
training: {{epochs: 1, batch_size: 64, early_stopping: false}}
preprocessors: [min_max]
model: {{cnn: {{blocks: 1, filters: 8, kernel_size: 3, pooling: max, dense_units: 16,
               dropout: 0.0}}}}
"""

RUN = """
import sys
from automl.study import tune
result = tune(sys.argv[1], progress=False)
trial = result.study.trials[0]
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
print(f"{trial.state.name} {trial.value} {peak}")
"""

MODES = {"streamed": 0, "in memory": 1e9}


def write_images(root: Path, count: int) -> None:
    """`count` PNGs, half per class, 32x32 RGB noise tinted red or blue."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for label, channel in (("red", 0), ("blue", 2)):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(count // 2):
            pixels = rng.integers(0, 160, (32, 32, 3), dtype="uint8")
            pixels[..., channel] += 90
            (folder / f"{i:05d}.png").write_bytes(tf.io.encode_png(pixels).numpy())


def subset(root: Path, target: Path, count: int) -> None:
    """The first `count` images of `root` (half per class) as symlinks under `target`."""
    for label in ("red", "blue"):
        (target / label).mkdir(parents=True)
        for path in sorted((root / label).iterdir())[: count // 2]:
            (target / label / path.name).symlink_to(path)


def tune_once(folder: Path, stream: float, work: Path) -> tuple[float, float, float]:
    """(peak RSS MiB, seconds, accuracy) of one `automl tune` in a fresh process."""
    space = work / "space.yaml"
    space.write_text(SPACE.format(folder=folder, stream=stream))
    env = {**os.environ, "AUTOML_RUNS_DIR": str(work / f"runs-{time.time_ns()}"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}  # fmt: skip
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", RUN, str(space)], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    state, value, peak = out.strip().splitlines()[-1].split()
    if state != "COMPLETE":
        raise SystemExit(f"the trial on {folder} did not complete: {state}")
    return int(peak) / 1024, time.monotonic() - started, float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    peaks: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.monotonic()
        write_images(work / f"images-{sizes[-1]}", sizes[-1])
        print(f"wrote {sizes[-1]} images in {time.monotonic() - started:.0f}s", flush=True)
        for size in sizes[:-1]:
            subset(work / f"images-{sizes[-1]}", work / f"images-{size}", size)
        for repeat in range(args.repeats):
            modes = list(MODES) if repeat % 2 == 0 else list(MODES)[::-1]
            for size in sizes:
                for mode in modes:
                    peak, seconds, accuracy = tune_once(work / f"images-{size}", MODES[mode], work)
                    peaks.setdefault((mode, size), []).append(peak)
                    print(f"repeat {repeat + 1}: {size:6d} images, {mode:<9}: peak RSS "
                          f"{peak:6.0f} MiB, {seconds:5.0f}s, accuracy {accuracy:.3f}",
                          flush=True)  # fmt: skip
    print(f"\nmedian peak resident memory over {args.repeats} repeats (MiB)")
    print("mode       " + "  ".join(f"{s:>7d}" for s in sizes) + f"  ratio {sizes[-1]}/{sizes[0]}")
    for mode in MODES:
        med = [statistics.median(peaks[(mode, s)]) for s in sizes]
        cells = "  ".join(f"{m:7.0f}" for m in med)
        print(f"{mode:<9}  {cells}  {med[-1] / med[0]:.2f}x")


if __name__ == "__main__":
    main()
