"""The package layers of DESIGN.md hold: ``flink_py.api`` imports no runtime and no API facade,
and ``flink_py.runtime`` imports neither ``flink_py.datastream`` nor ``flink_py.table``.

Each module is imported alone in a fresh interpreter, so that a module imported earlier by
another test (or by another module of the same package) cannot hide a forbidden import.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import flink_py.api
import flink_py.runtime

_REPO = Path(__file__).resolve().parents[2]

#: package -> the packages none of its modules may import
_FORBIDDEN: Dict[str, Tuple[str, ...]] = {
    "flink_py.api": ("flink_py.datastream", "flink_py.table", "flink_py.runtime"),
    "flink_py.runtime": ("flink_py.datastream", "flink_py.table"),
}

#: imports every module named on the command line, one at a time in a clean module table,
#: and prints {module: [forbidden modules it loaded]}
_PROBE = r"""
import importlib, json, sys
forbidden = sys.argv[1].split(",")
found = {}
for name in sys.argv[2:]:
    # forget our own modules (third-party ones may stay loaded) so that each starts afresh
    for loaded in [m for m in sys.modules if m == "flink_py" or m.startswith("flink_py.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
    found[name] = sorted(m for m in sys.modules
                         if any(m == f or m.startswith(f + ".") for f in forbidden))
print(json.dumps(found))
"""


def _modules_of(package) -> List[str]:
    names = [package.__name__]
    names += [info.name for info in pkgutil.walk_packages(package.__path__,
                                                          package.__name__ + ".")]
    return sorted(names)


def _forbidden_imports(package, forbidden: Tuple[str, ...]) -> Dict[str, List[str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(forbidden), *_modules_of(package)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return {name: loaded for name, loaded in json.loads(result.stdout).items() if loaded}


@pytest.mark.parametrize("package", [flink_py.api, flink_py.runtime],
                         ids=lambda package: package.__name__)
def test_no_module_of_the_package_imports_a_forbidden_layer(package) -> None:
    assert _forbidden_imports(package, _FORBIDDEN[package.__name__]) == {}


def test_the_api_package_has_the_contracts_modules() -> None:
    assert {"flink_py.api.functions", "flink_py.api.state", "flink_py.api.timerservice",
            "flink_py.api.time_domain", "flink_py.api.output_tag",
            "flink_py.api.windowing.windows", "flink_py.api.windowing.assigners",
            "flink_py.api.windowing.triggers", "flink_py.api.windowing.evictors",
            "flink_py.api.bucketing"} <= set(_modules_of(flink_py.api))


def test_pyflink_paths_re_export_the_very_same_objects() -> None:
    from flink_py import api, datastream
    from flink_py.api import bucketing, output_tag, state, time_domain, timerservice
    from flink_py.api.windowing import assigners, evictors, triggers, windows
    from flink_py.datastream import functions as ds_functions
    from flink_py.datastream import output_tag as ds_output_tag
    from flink_py.datastream import state as ds_state
    from flink_py.datastream import time_domain as ds_time_domain
    from flink_py.datastream import timerservice as ds_timerservice
    from flink_py.datastream import window as ds_window
    from flink_py.datastream.connectors import file_system

    import flink_py.api.functions as functions
    assert api.functions is functions
    assert ds_functions.MapFunction is functions.MapFunction is datastream.MapFunction
    assert ds_functions.RuntimeContext is functions.RuntimeContext
    assert ds_functions.SourceFunction is functions.SourceFunction
    assert ds_state.ValueStateDescriptor is state.ValueStateDescriptor
    assert ds_state.StateTtlConfig is state.StateTtlConfig
    assert ds_state.ValueState is state.ValueState
    assert ds_time_domain.TimeDomain is time_domain.TimeDomain is datastream.TimeDomain
    assert ds_timerservice.TimerService is timerservice.TimerService
    assert ds_output_tag.OutputTag is output_tag.OutputTag is datastream.OutputTag
    assert ds_window.TimeWindow is windows.TimeWindow is datastream.TimeWindow
    assert ds_window.TumblingEventTimeWindows is assigners.TumblingEventTimeWindows
    assert ds_window.CountTrigger is triggers.CountTrigger
    assert ds_window.CountEvictor is evictors.CountEvictor
    assert file_system.RollingPolicy is bucketing.RollingPolicy
    assert file_system.BucketAssigner is bucketing.BucketAssigner
    assert functions.MapFunction.__module__ == "flink_py.api.functions"


def test_old_internal_paths_still_load_their_classes() -> None:
    """Pickles name a class by module and qualified name: the old module paths still resolve."""
    import pickle

    from flink_py.api.windowing.windows import TimeWindow
    from flink_py.datastream.windowing.windows import TimeWindow as OldPathTimeWindow
    from flink_py.datastream.connectors.date_time_format import compile_pattern
    from flink_py.common.date_time_format import compile_pattern as moved_compile_pattern

    assert OldPathTimeWindow is TimeWindow
    assert compile_pattern is moved_compile_pattern
    # a pickle written when the class lived in flink_py.datastream.windowing.windows
    old = pickle.dumps(TimeWindow(0, 10), protocol=2).replace(
        b"flink_py.api.windowing.windows", b"flink_py.datastream.windowing.windows")
    assert b"flink_py.datastream.windowing.windows" in old
    assert pickle.loads(old) == TimeWindow(0, 10)
