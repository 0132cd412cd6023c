"""ExecutionConfig: PyFlink's methods over a shared Configuration."""

from __future__ import annotations

import pytest

from flink_py.common import config_options as opts
from flink_py.common.configuration import Configuration
from flink_py.common.execution_config import ExecutionConfig
from flink_py.common.utils import ParameterTool
from flink_py.errors import InvalidProgramError

# PyFlink's ExecutionConfig methods (flink-python/pyflink/common/execution_config.py), minus
# those removed with the DataSet API (execution mode, input dependency constraint).
PYFLINK_METHODS = [
    "enable_closure_cleaner", "disable_closure_cleaner", "is_closure_cleaner_enabled",
    "set_auto_watermark_interval", "get_auto_watermark_interval",
    "set_latency_tracking_interval", "get_latency_tracking_interval",
    "get_parallelism", "set_parallelism", "get_max_parallelism", "set_max_parallelism",
    "get_task_cancellation_interval", "set_task_cancellation_interval",
    "get_task_cancellation_timeout", "set_task_cancellation_timeout",
    "enable_force_kryo", "disable_force_kryo", "is_force_kryo_enabled",
    "enable_generic_types", "disable_generic_types", "has_generic_types_disabled",
    "enable_auto_generated_uids", "disable_auto_generated_uids",
    "has_auto_generated_uids_enabled", "enable_force_avro", "disable_force_avro",
    "is_force_avro_enabled", "enable_object_reuse", "disable_object_reuse",
    "is_object_reuse_enabled", "get_global_job_parameters", "set_global_job_parameters",
    "add_default_kryo_serializer", "register_type_with_kryo_serializer", "register_pojo_type",
    "register_kryo_type", "get_registered_types_with_kryo_serializer_classes",
    "get_default_kryo_serializer_classes", "get_registered_kryo_types",
    "get_registered_pojo_types", "is_use_snapshot_compression", "set_use_snapshot_compression",
]


def test_covers_pyflinks_methods() -> None:
    missing = [name for name in PYFLINK_METHODS if not callable(getattr(ExecutionConfig, name, None))]
    assert missing == []
    assert ExecutionConfig.PARALLELISM_DEFAULT == -1
    assert ExecutionConfig.PARALLELISM_UNKNOWN == -2


def test_defaults() -> None:
    config = ExecutionConfig()
    assert config.get_parallelism() == 1
    assert config.get_max_parallelism() == -1
    assert config.get_auto_watermark_interval() == 200
    assert config.get_latency_tracking_interval() == 0
    assert config.get_task_cancellation_interval() == 30_000
    assert config.get_task_cancellation_timeout() == 180_000
    assert config.is_closure_cleaner_enabled()
    assert not config.is_object_reuse_enabled()
    assert not config.is_force_kryo_enabled() and not config.is_force_avro_enabled()
    assert not config.has_generic_types_disabled()
    assert config.has_auto_generated_uids_enabled()
    assert config.get_global_job_parameters() == {}
    assert not config.is_use_snapshot_compression()


def test_setters_chain_and_write_flinks_keys() -> None:
    conf = Configuration()
    config = ExecutionConfig(conf)
    (config.set_parallelism(4).set_max_parallelism(256).set_auto_watermark_interval(50)
     .enable_object_reuse().disable_closure_cleaner().set_latency_tracking_interval(1000)
     .set_task_cancellation_timeout(0).set_use_snapshot_compression(True))
    assert conf.to_dict() == {
        "parallelism.default": "4",
        "pipeline.max-parallelism": "256",
        "pipeline.auto-watermark-interval": "50 ms",
        "pipeline.object-reuse": "true",
        "pipeline.closure-cleaner-level": "NONE",
        "metrics.latency.interval": "1 s",
        "task.cancellation.timeout": "0 ms",
        "execution.checkpointing.snapshot-compression": "true",
    }
    assert config.get_parallelism() == 4 and config.get_max_parallelism() == 256
    assert config.get_auto_watermark_interval() == 50
    assert config.is_object_reuse_enabled() and not config.is_closure_cleaner_enabled()
    assert config.get_configuration() is conf


def test_reads_values_loaded_from_files() -> None:
    conf = Configuration({"parallelism.default": 3, "pipeline.auto-watermark-interval": "1 s"})
    config = ExecutionConfig(conf)
    assert config.get_parallelism() == 3
    assert config.get_auto_watermark_interval() == 1000


def test_parallelism_flags() -> None:
    config = ExecutionConfig().set_parallelism(3)
    assert config.set_parallelism(ExecutionConfig.PARALLELISM_UNKNOWN).get_parallelism() == 3
    assert config.set_parallelism(ExecutionConfig.PARALLELISM_DEFAULT).get_parallelism() == -1


@pytest.mark.parametrize("bad", [0, -3, 32769, 2.0, "4", True])
def test_bad_parallelism(bad: object) -> None:
    with pytest.raises(InvalidProgramError, match="(Parallelism must be at least one|must be an int)"):
        ExecutionConfig().set_parallelism(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 32769])
def test_bad_max_parallelism(bad: int) -> None:
    with pytest.raises(InvalidProgramError, match=f"Maximum parallelism must be between 1 and 32768. Found: {bad}"):
        ExecutionConfig().set_max_parallelism(bad)


def test_bad_intervals() -> None:
    with pytest.raises(InvalidProgramError, match="Auto watermark interval must not be negative, got -1 ms"):
        ExecutionConfig().set_auto_watermark_interval(-1)
    with pytest.raises(InvalidProgramError, match="Timeout needs to be >= 0"):
        ExecutionConfig().set_task_cancellation_timeout(-5)
    with pytest.raises(InvalidProgramError, match="must be an int"):
        ExecutionConfig().set_auto_watermark_interval("200ms")  # type: ignore[arg-type]


def test_global_job_parameters() -> None:
    config = ExecutionConfig().set_global_job_parameters({"a": "1", "b": 2, "c": True})
    assert config.get_global_job_parameters() == {"a": "1", "b": "2", "c": "True"}
    config.get_global_job_parameters()["a"] = "changed"  # a copy
    assert config.get_global_job_parameters()["a"] == "1"
    params = ParameterTool.from_args(["--input", "in.txt"])
    assert ExecutionConfig().set_global_job_parameters(params).get_global_job_parameters() == {
        "input": "in.txt"}
    with pytest.raises(InvalidProgramError, match="must be a dict of str to str"):
        ExecutionConfig().set_global_job_parameters(["a"])


def test_jvm_only_settings_are_stored() -> None:
    config = (ExecutionConfig().enable_force_kryo().enable_force_avro().disable_generic_types()
              .disable_auto_generated_uids())
    assert config.is_force_kryo_enabled() and config.is_force_avro_enabled()
    assert config.has_generic_types_disabled() and not config.has_auto_generated_uids_enabled()
    config.register_kryo_type("com.a.B").register_kryo_type("com.a.B").register_pojo_type("com.a.P")
    config.add_default_kryo_serializer("com.a.T", "com.a.S")
    config.register_type_with_kryo_serializer("com.a.U", "com.a.V")
    assert config.get_registered_kryo_types() == ["com.a.B"]
    assert config.get_registered_pojo_types() == ["com.a.P"]
    assert config.get_default_kryo_serializer_classes() == {"com.a.T": "com.a.S", "com.a.U": "com.a.V"}
    assert config.get_configuration().get(opts.KRYO_DEFAULT_SERIALIZERS) == [
        "class:com.a.T,serializer:com.a.S", "class:com.a.U,serializer:com.a.V"]
    with pytest.raises(InvalidProgramError, match="non-empty string"):
        config.register_pojo_type("")


def test_equality() -> None:
    assert ExecutionConfig().set_parallelism(2) == ExecutionConfig(Configuration({"parallelism.default": "2"}))
    assert ExecutionConfig().set_parallelism(2) != ExecutionConfig()
