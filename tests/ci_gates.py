"""What the test suite may leave out, and how loudly (a pytest plugin, loaded by conftest.py).

* With ``FACESCAN_REQUIRE_DATA=1`` (CI, ``.ci/run``) every skip is a failure: a test skipped for
  want of something CI provides (shared data, an installed extra, a service, a browser) must
  not let the suite go green. Skips raised while importing a test module
  (``pytest.importorskip`` at module level) are failures too. Expected failures (xfail) are not
  skips and stay as they are.
* What CI cannot have is declared by a marker, and tests so marked are *deselected* (never run,
  never skipped) where it is missing, in any mode; the terminal summary counts them by marker
  ("deselected: 1 needs_facenet (...)"). The markers are registered in pyproject.toml:

  - ``needs_gpu``: onnxruntime offers CUDAExecutionProvider (onnxruntime-gpu and a device);
  - ``needs_weights``: ``FACESCAN_VLM_WEIGHTS`` names a folder of real vision-language weights;
  - ``needs_facenet``: facenet-pytorch is installed (its stale pins keep it out of the extras);
  - ``needs_cpu_onnxruntime``: onnxruntime offers no CUDA (the error a CPU build gives);
  - ``slow``: ``FACESCAN_SLOW=1``.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

REQUIRE = "FACESCAN_REQUIRE_DATA"


def _cuda() -> bool:
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _weights() -> bool:
    folder = os.environ.get("FACESCAN_VLM_WEIGHTS", "")
    return bool(folder) and Path(folder).is_dir()


# marker -> (is what it needs here?, what to do to run the tests it marks)
NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "needs_gpu": (_cuda, "no CUDA device: needs onnxruntime-gpu and a GPU"),
    "needs_weights": (_weights, "real VLM weights not given: set FACESCAN_VLM_WEIGHTS to their folder"),
    "needs_facenet": (lambda: _installed("facenet-pytorch"),
                      "facenet-pytorch not installed: pip install --no-deps facenet-pytorch==2.6.0"),
    "needs_cpu_onnxruntime": (lambda: not _cuda(), "this onnxruntime offers CUDA"),
    "slow": (lambda: os.environ.get("FACESCAN_SLOW") == "1", "long-running: set FACESCAN_SLOW=1"),
}
_DESELECTED = pytest.StashKey[Counter]()


def ci_mode() -> bool:
    return os.environ.get(REQUIRE) == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_DESELECTED] = Counter()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    available = {name: None for name in NEEDS}  # checked once, on first use
    keep, drop = [], []
    for item in items:
        missing = None
        for name in (m.name for m in item.iter_markers() if m.name in NEEDS):
            if available[name] is None:
                available[name] = NEEDS[name][0]()
            if not available[name]:
                missing = name
                break
        if missing is None:
            keep.append(item)
        else:
            drop.append(item)
            config.stash[_DESELECTED][missing] += 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts = config.stash.get(_DESELECTED, Counter())
    if counts:
        terminalreporter.write_line("deselected: " + ", ".join(
            f"{n} {name} ({NEEDS[name][1]})" for name, n in sorted(counts.items())))


def _forbid(report, what: str) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"{what} skipped under {REQUIRE}=1, which forbids skipping: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and ci_mode() and not hasattr(report, "wasxfail"):
        _forbid(report, "test")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if report.skipped and ci_mode():  # pytest.importorskip / pytest.skip(allow_module_level=True)
        _forbid(report, "module" if isinstance(collector, pytest.Module) else "collector")
    return report
