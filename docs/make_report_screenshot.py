"""Regenerate `docs/images/report.png`, the README's picture of `automl report`.

Tunes a small digits MLP study (10 trials of a few epochs, in a temporary directory), exports its
best model, writes the report and photographs it in headless Chromium, 1280 pixels wide.

    .venv/bin/python docs/make_report_screenshot.py [--out docs/images/report.png] [--keep DIR]

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package (the dev extra).
About a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

SPACE = """
study:
  name: digits-mlp-report
  metric: accuracy
  trials: 10
  sampler: {tpe: {n_startup_trials: 5}}
  pruner: median
  seed: 0
data:
  source: {sklearn: {name: digits, images: false}}
  validation: 0.2
  test: 0.2
training:
  epochs: 6
  batch_size: [32, 64]
preprocessors: [standardize]
model:
  mlp:
    layers: {low: 1, high: 2}
    units: {low: 16, high: 128, log: true}
    dropout: {low: 0.0, high: 0.4}
activation: [relu, tanh]
optimizer:
  adam: {learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}}
  sgd: {learning_rate: {low: 1.0e-3, high: 1.0e-1, log: true}, momentum: {low: 0.5, high: 0.99}}
"""
WIDTH = 1280
RENDERED = """return [...document.querySelectorAll('.js-plotly-plot')]
    .filter(e => e.querySelector('svg.main-svg')).length"""


def screenshot(page: Path, png: Path, width: int = WIDTH) -> None:
    """Open `page` in headless Chromium (no network), wait for its figures, save the whole page
    as a PNG `width` pixels wide (in 256 colours when Pillow is installed: a third of the size)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        sys.exit(
            "make_report_screenshot: needs chromium and chromedriver on PATH "
            "(apt-get install chromium chromium-driver), but "
            + ("chromium" if chromium is None else "chromedriver")
            + " is missing"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--window-size={width},1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        driver.get(page.resolve().as_uri())
        expected = int(driver.execute_script("return document.body.dataset.figures"))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(RENDERED) >= expected)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        png.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(png))
    finally:
        driver.quit()
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Tune, export, report, photograph."""
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=here / "images" / "report.png")
    parser.add_argument("--keep", type=Path, help="keep the study and report in this directory")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import automl
    from automl.report import report_for_space

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        os.environ["AUTOML_RUNS_DIR"] = str(root / "runs")
        space = root / "digits_mlp_report.yaml"
        space.write_text(textwrap.dedent(SPACE).lstrip())
        automl.tune(str(space), progress=False)
        automl.export_model(str(space), str(root / "runs" / "digits-mlp-report" / "best"))
        page = report_for_space(str(space), None, None, ())
        screenshot(page, args.out)
    print(f"wrote {args.out}" + (f" (the report: {page})" if args.keep else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
