"""flink_py has PyFlink 2.3.0's public API, measured against a recording of real PyFlink.

``tests/fixtures/pyflink_api/pyflink_2.3.0_api.json`` (recorded by ``record_api.py`` next to
it, from real PyFlink) lists every public class, function and method of ``pyflink.common``
and ``pyflink.datastream`` (with ``functions``, ``state``, ``window``, the connectors and the
formats) and ``pyflink.metrics``, nested classes included, with its parameters. Each must
be in flink_py at the same path (``pyflink.X`` is ``flink_py.X``) with PyFlink's parameters
(see :mod:`flink_py.testing.pyflink_api` for how signatures are compared), or be named
here:

* ``LEFT_OUT``: what flink_py does not have, with the reason: ``JVM-only: ...`` (it hands
  a Java object to PyFlink's JVM, which flink_py has not) or ``not built yet: ...`` (a to-do,
  naming the issue when one covers it).
* ``PENDING``: what another helper's branch adds, naming the branch; the lead clears an
  entry when it merges that branch.

An entry names a module, a class or one member; it covers everything under it. An entry
that covers a name flink_py now has fails the test (it is stale: delete or narrow it), so
both lists stay true to-do lists. The coverage (present / total per module, and without the
JVM-only names) is printed at the end of the pytest run.
"""

from __future__ import annotations

import os
from typing import Dict, List

import pytest

from flink_py.testing import pyflink_api
from flink_py.testing.pyflink_api import Item

FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures", "pyflink_api",
                       "pyflink_2.3.0_api.json")

_JAVA_WRAPPER = "JVM-only: returns the Java object PyFlink hands to its JVM"
_CONNECTORS = "not built yet: issue 13 (connectors)"
_FORMATS = "not built yet: issue 13 (connectors), its file formats"

LEFT_OUT: Dict[str, str] = {
    # -- connectors and formats flink_py does not ship yet
    "pyflink.datastream.connectors.cassandra": _CONNECTORS,
    "pyflink.datastream.connectors.dynamic_kafka": _CONNECTORS,
    "pyflink.datastream.connectors.elasticsearch": _CONNECTORS,
    "pyflink.datastream.connectors.hybrid_source": _CONNECTORS,
    "pyflink.datastream.connectors.jdbc": _CONNECTORS,
    "pyflink.datastream.connectors.kafka": _CONNECTORS,
    "pyflink.datastream.connectors.kinesis": _CONNECTORS,
    "pyflink.datastream.connectors.pulsar": _CONNECTORS,
    "pyflink.datastream.connectors.rabbitmq": _CONNECTORS,
    "pyflink.datastream.formats.avro": _FORMATS,
    "pyflink.datastream.formats.csv": _FORMATS,
    "pyflink.datastream.formats.json": _FORMATS,
    "pyflink.datastream.formats.orc": _FORMATS,
    "pyflink.datastream.formats.parquet": _FORMATS,
    # -- the Java objects behind PyFlink's Python wrappers
    "pyflink.common.TypeInformation.get_java_type_info": _JAVA_WRAPPER,
    "pyflink.common.typeinfo.TypeInformation.get_java_type_info": _JAVA_WRAPPER,
    "pyflink.common.RowKind.to_j_row_kind": _JAVA_WRAPPER,
    "pyflink.common.types.RowKind.to_j_row_kind": _JAVA_WRAPPER,
    "pyflink.datastream.MemorySize.get_java_memory_size": _JAVA_WRAPPER,
    "pyflink.datastream.OutputTag.get_java_output_tag": _JAVA_WRAPPER,
    "pyflink.datastream.SlotSharingGroup.get_java_slot_sharing_group": _JAVA_WRAPPER,
    "pyflink.datastream.SinkFunction.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.functions.SinkFunction.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.SourceFunction.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.functions.SourceFunction.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.connectors.number_seq.NumberSequenceSource.get_java_function":
        _JAVA_WRAPPER,
    "pyflink.datastream.connectors.file_system.BucketAssigner.get_java_object": _JAVA_WRAPPER,
    "pyflink.datastream.connectors.file_system.OutputFileConfig.get_java_object":
        _JAVA_WRAPPER,
    "pyflink.datastream.connectors.file_system.RollingPolicy.get_java_object": _JAVA_WRAPPER,
    "pyflink.datastream.connectors.file_system.FileSink.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.connectors.file_system.FileSource.get_java_function": _JAVA_WRAPPER,
    "pyflink.datastream.SourceFunction.__init__":
        "JVM-only: PyFlink's takes a Java source function (a class name or JavaObject); "
        "ours is subclassed in Python and takes no arguments",
    "pyflink.datastream.functions.SourceFunction.__init__":
        "JVM-only: PyFlink's takes a Java source function (a class name or JavaObject); "
        "ours is subclassed in Python and takes no arguments",
    "pyflink.datastream.SinkFunction.__init__":
        "JVM-only: PyFlink's takes a Java sink function (a class name or JavaObject); "
        "ours is subclassed in Python and takes no arguments",
    "pyflink.datastream.functions.SinkFunction.__init__":
        "JVM-only: PyFlink's takes a Java sink function (a class name or JavaObject); "
        "ours is subclassed in Python and takes no arguments",
    "pyflink.common.serialization.BulkWriterFactory":
        "JVM-only: wraps a Java BulkWriter.Factory (of the Avro/Parquet/ORC formats)",
    "pyflink.common.AssignerWithPeriodicWatermarksWrapper":
        "JVM-only: wraps a Java AssignerWithPeriodicWatermarks",
    "pyflink.common.watermark_strategy.AssignerWithPeriodicWatermarksWrapper":
        "JVM-only: wraps a Java AssignerWithPeriodicWatermarks",
    "pyflink.common.TypeInformation.need_conversion":
        "JVM-only: PyFlink converts values to the internal format of its Java bridge",
    "pyflink.common.TypeInformation.to_internal_type":
        "JVM-only: PyFlink converts values to the internal format of its Java bridge",
    "pyflink.common.TypeInformation.from_internal_type":
        "JVM-only: PyFlink converts values from the internal format of its Java bridge",
    "pyflink.common.typeinfo.TypeInformation.need_conversion":
        "JVM-only: PyFlink converts values to the internal format of its Java bridge",
    "pyflink.common.typeinfo.TypeInformation.to_internal_type":
        "JVM-only: PyFlink converts values to the internal format of its Java bridge",
    "pyflink.common.typeinfo.TypeInformation.from_internal_type":
        "JVM-only: PyFlink converts values from the internal format of its Java bridge",
    "pyflink.datastream.StreamExecutionEnvironment.create_input":
        "JVM-only: takes a Java InputFormat",
    "pyflink.datastream.connectors.Source":
        "JVM-only: PyFlink's wrapper of a Java Source; ours are Python classes",
    "pyflink.datastream.connectors.base.Source":
        "JVM-only: PyFlink's wrapper of a Java Source; ours are Python classes",
    "pyflink.datastream.connectors.Sink":
        "JVM-only: PyFlink's wrapper of a Java Sink; ours are Python classes",
    "pyflink.datastream.connectors.base.Sink":
        "JVM-only: PyFlink's wrapper of a Java Sink; ours are Python classes",
    "pyflink.datastream.connectors.file_system.FileSink.BulkFormatBuilder":
        "JVM-only: builds a FileSink around a Java BulkWriter.Factory (PyFlink's Parquet, ORC "
        "and Avro writers)",
    "pyflink.datastream.connectors.file_system.FileSink.get_transformer":
        "JVM-only: hands PyFlink's Java FileSink a preprocessing transformation",
    "pyflink.datastream.connectors.base.SupportsPreprocessing":
        "JVM-only: hands a Java sink a preprocessing transformation",
    "pyflink.datastream.connectors.base.StreamTransformer":
        "JVM-only: hands a Java sink a preprocessing transformation",
    # -- not built yet
    "pyflink.datastream.connectors.file_system.BulkFormat":
        "not built yet: issue 13 (connectors), bulk formats",
    "pyflink.datastream.connectors.file_system.FileSource.for_bulk_file_format":
        "not built yet: issue 13 (connectors), bulk formats",
    "pyflink.datastream.connectors.file_system.FileSink.BaseBuilder.enable_compact":
        "not built yet: issue 13 (connectors), file compaction",
    "pyflink.datastream.connectors.file_system.FileSink.RowFormatBuilder.enable_compact":
        "not built yet: issue 13 (connectors), file compaction",
    "pyflink.datastream.connectors.file_system.FileSink.for_bulk_format":
        "JVM-only: takes a Java BulkWriter.Factory (PyFlink's Parquet, ORC and Avro writers)",
    "pyflink.datastream.connectors.file_system.FileSourceBuilder.monitor_continuously":
        "not built yet: issue 13 (connectors), an unbounded FileSource watching for files",
    "pyflink.datastream.connectors.file_system.FileCompactStrategy":
        "not built yet: issue 13 (connectors), file compaction",
    "pyflink.datastream.connectors.file_system.FileCompactor":
        "not built yet: issue 13 (connectors), file compaction",
    "pyflink.datastream.connectors.file_system.FileEnumeratorProvider":
        "not built yet: issue 13 (connectors), pluggable file enumerators",
    "pyflink.datastream.connectors.file_system.FileSourceBuilder.set_file_enumerator":
        "not built yet: issue 13 (connectors), pluggable file enumerators",
    "pyflink.datastream.connectors.file_system.FileSplitAssignerProvider":
        "not built yet: issue 13 (connectors), pluggable split assigners",
    "pyflink.datastream.connectors.file_system.FileSourceBuilder.set_split_assigner":
        "not built yet: issue 13 (connectors), pluggable split assigners",
    "pyflink.datastream.connectors.file_system.StreamingFileSink":
        "not built yet: issue 13 (connectors), the 1.x StreamingFileSink (FileSink is built)",
    "pyflink.datastream.StreamExecutionEnvironment.register_cached_file":
        "JVM-only: registers a file in the DistributedCache of Java functions; PyFlink's "
        "Python RuntimeContext has no way to read it",
}

#: Names another helper's branch adds: path -> the branch. The lead clears an entry when it
#: merges the branch (then the entry is stale and fails the test).
PENDING: Dict[str, str] = {
}

_HELPER_BRANCHES = {"wt-async", "wt-parity", "wt-fixtures", "wt-types", "wt-env", "wt-debug"}


@pytest.fixture(scope="module")
def items() -> List[Item]:
    fixture = pyflink_api.load_fixture(FIXTURE)
    result = pyflink_api.compare(fixture)
    pyflink_api.REPORTS.append(pyflink_api.format_coverage(
        pyflink_api.coverage(result, LEFT_OUT), fixture["pyflink_version"]))
    return result


def _describe(found: List[Item]) -> str:
    return "\n".join(f"  {i.path}: {i.status} ({i.detail})" for i in found[:60]) + (
        f"\n  ... and {len(found) - 60} more" if len(found) > 60 else "")


def test_every_pyflink_name_is_ours_or_listed(items: List[Item]) -> None:
    listed = {**LEFT_OUT, **PENDING}
    unlisted = [i for i in items if not i.ok and pyflink_api.covered_by(i.path, listed) is None]
    assert not unlisted, (
        f"{len(unlisted)} PyFlink names are not in flink_py (with PyFlink's parameters) "
        f"and not in LEFT_OUT or PENDING:\n{_describe(unlisted)}")


@pytest.mark.parametrize("name,entries", [("LEFT_OUT", LEFT_OUT), ("PENDING", PENDING)])
def test_no_entry_is_stale(items: List[Item], name: str, entries: Dict[str, str]) -> None:
    by_entry: Dict[str, List[Item]] = {entry: [] for entry in entries}
    for item in items:
        entry = pyflink_api.covered_by(item.path, entries)
        if entry is not None:
            by_entry[entry].append(item)
    unknown = sorted(entry for entry, covered in by_entry.items() if not covered)
    assert not unknown, f"{name} entries that name no PyFlink name: {unknown}"
    stale = {entry: [i.path for i in covered if i.ok] for entry, covered in by_entry.items()}
    stale = {entry: paths for entry, paths in stale.items() if paths}
    assert not stale, (
        f"{name} entries that cover names flink_py now has (delete or narrow them): {stale}")


def test_left_out_and_pending_do_not_overlap() -> None:
    both = [p for p in LEFT_OUT if pyflink_api.covered_by(p, PENDING)] + \
        [p for p in PENDING if pyflink_api.covered_by(p, LEFT_OUT)]
    assert not both, f"names both left out and pending: {both}"


def test_every_entry_gives_a_reason() -> None:
    bad = {p: r for p, r in LEFT_OUT.items()
           if not (r.startswith("JVM-only: ") or r.startswith("not built yet: "))}
    assert not bad, f"LEFT_OUT reasons must start 'JVM-only: ' or 'not built yet: ': {bad}"
    unknown = {p: b for p, b in PENDING.items() if b not in _HELPER_BRANCHES}
    assert not unknown, f"PENDING must name a helper branch of {_HELPER_BRANCHES}: {unknown}"


def test_the_comparison_sees_differences() -> None:
    """The comparison itself: a missing name, another signature, another kind, a missing
    base class, a method that only raises."""
    fixture = {"modules": {"pyflink.common.time": {
        "Duration": {"kind": "class", "bases": ["object"], "members": {}},
        "Time": {"kind": "class", "bases": ["Duration"], "members": {
            "seconds": {"kind": "staticmethod",
                        "parameters": [["seconds", "POSITIONAL_OR_KEYWORD", False]]},
            "hours": {"kind": "method",
                      "parameters": [["self", "POSITIONAL_OR_KEYWORD", False]]},
            "of_weeks": {"kind": "staticmethod", "parameters": []},
            "to_milliseconds": {"kind": "method", "parameters": [
                ["self", "POSITIONAL_OR_KEYWORD", False],
                ["unit", "POSITIONAL_OR_KEYWORD", True]]},
        }},
        "NoSuchName": {"kind": "function", "parameters": []},
    }, "pyflink.datastream.connectors.file_system": {
        "FileSourceBuilder": {"kind": "class", "bases": ["object"], "members": {
            "monitor_continuously": {"kind": "method", "parameters": [
                ["self", "POSITIONAL_OR_KEYWORD", False],
                ["discovery_interval", "POSITIONAL_OR_KEYWORD", False]]}}},
    }, "pyflink.no_such_module": {"X": {"kind": "class", "bases": [], "members": {
        "y": {"kind": "method", "parameters": None}}}}}}
    status = {i.path: i.status for i in pyflink_api.compare(fixture)}
    assert status == {
        "pyflink.common.time.Duration": "ok",
        "pyflink.common.time.Time": "bases",  # ours does not derive from Duration
        "pyflink.common.time.Time.seconds": "ok",
        "pyflink.common.time.Time.hours": "kind",
        "pyflink.common.time.Time.of_weeks": "missing",
        "pyflink.common.time.Time.to_milliseconds": "signature",
        "pyflink.common.time.NoSuchName": "missing",
        "pyflink.datastream.connectors.file_system.FileSourceBuilder": "ok",
        # a method that only raises "not supported yet" is not there
        "pyflink.datastream.connectors.file_system.FileSourceBuilder.monitor_continuously":
            "raises",
        "pyflink.no_such_module.X": "missing",
        "pyflink.no_such_module.X.y": "missing",
    }
