"""pyflink.common names added for API completeness: ConfigOptions, Configuration.from_dict
and parse_list_value, RowFieldExtractorSchema, CompletableFuture, TypeSerializer."""

from __future__ import annotations

import concurrent.futures
import io

import pytest

from flink_py.common import (
    CompletableFuture, ConfigOption, ConfigOptions, Configuration, JobClient, Row,
    TypeSerializer)
from flink_py.common import config_options
from flink_py.common.serialization import RowFieldExtractorSchema
from flink_py.common.serializer import IntSerializer
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.errors import ConfigurationError, InvalidProgramError


def test_config_options_builds_typed_options_that_configuration_reads() -> None:
    retries = ConfigOptions.key("my.retries").int_type().default_value(3)
    ratio = ConfigOptions.key("my.ratio").double_type().default_value(0.5)
    name = ConfigOptions.key("my.name").string_type().no_default_value()
    flag = ConfigOptions.key("my.flag").boolean_type().default_value(False)

    assert isinstance(retries, ConfigOption) and retries.key == "my.retries"
    conf = Configuration()
    assert (conf.get(retries), conf.get(ratio), conf.get(name), conf.get(flag)) == \
        (3, 0.5, None, False)
    conf.set_string("my.retries", "7").set_string("my.flag", "TRUE")
    conf.set(name, "job")
    assert (conf.get(retries), conf.get(flag), conf.get_string("my.name")) == (7, True, "job")
    assert config_options.ConfigOptions is ConfigOptions


def test_config_options_rejects_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="my.retries"):
        ConfigOptions.key("my.retries").int_type().default_value("many")
    with pytest.raises(ConfigurationError, match="'not a number'"):
        Configuration().set_string("my.l", "not a number").get(
            ConfigOptions.key("my.l").long_type().default_value(1))
    with pytest.raises(ValueError, match="non-empty str"):
        ConfigOptions.key("")


def test_configuration_from_dict_and_parse_list_value() -> None:
    conf = Configuration.from_dict({"parallelism.default": "4", "pipeline.name": "n"})
    assert isinstance(conf, Configuration)
    assert conf.get_integer("parallelism.default", 1) == 4
    assert conf.get_string("pipeline.name", "") == "n"
    with pytest.raises(ConfigurationError, match="dict"):
        Configuration.from_dict(["a"])  # type: ignore[arg-type]
    # PyFlink's parsing: a YAML list, else Flink's flat ``a;b`` form.
    assert Configuration.parse_list_value("") == []
    assert Configuration.parse_list_value("[a, b, 3]") == ["a", "b", 3]
    assert Configuration.parse_list_value("a;b;c") == ["a", "b", "c"]
    assert Configuration.parse_list_value("file:///x.jar") == ["file:///x.jar"]


def test_row_field_extractor_schema_serializes_a_bytes_field() -> None:
    schema = RowFieldExtractorSchema(1)
    assert schema.serialize(Row(b"key", b"value")) == b"value"
    assert schema.serialize(Row(b"key", None)) == b""
    assert schema.serialize(None) == b""
    assert schema.get_field_index() == 1 and schema == RowFieldExtractorSchema(1)
    with pytest.raises(ValueError, match="must be of type bytes, but was str"):
        schema.serialize(Row("key", "value"))
    with pytest.raises(ValueError, match="Cannot access field 1 in Row with arity 1"):
        schema.serialize(Row(b"only"))
    with pytest.raises(ValueError, match="non-negative, got: -1"):
        RowFieldExtractorSchema(-1)
    with pytest.raises(InvalidProgramError, match="expects a Row"):
        schema.serialize((b"k", b"v"))


def test_job_client_futures_are_completable_futures() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2, 3]).map(lambda v: v * 2).print()
    client = env.execute_async("completable futures")
    assert isinstance(client, JobClient)
    result_future = client.get_job_execution_result()
    assert isinstance(result_future, CompletableFuture)
    assert isinstance(result_future, concurrent.futures.Future)
    result = result_future.result(timeout=60)
    assert result.get_job_id() == client.get_job_id()
    assert result_future.done() and not result_future.cancelled()
    assert result_future.exception() is None
    status = client.get_job_status()
    assert isinstance(status, CompletableFuture) and status.done()
    accumulators = client.get_accumulators()
    assert isinstance(accumulators, CompletableFuture)
    assert accumulators.result(timeout=60) == result.get_all_accumulator_results() == {}


def test_type_serializer_is_pyflinks_base_of_the_serializers() -> None:
    assert issubclass(IntSerializer, TypeSerializer)
    stream = io.BytesIO()
    IntSerializer().serialize(7, stream)
    stream.seek(0)
    assert IntSerializer().deserialize(stream) == 7


def test_input_dependency_constraint_has_pyflinks_members() -> None:
    from flink_py.common import InputDependencyConstraint
    assert [c.name for c in InputDependencyConstraint] == ["ANY", "ALL"]
