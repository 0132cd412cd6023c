"""The checkpointing API (CheckpointConfig, enable_checkpointing, state backends, checkpoint
storage, restart strategies) and the job configuration it produces: Flink's keys and values,
exactly as Flink spells them, whichever way the program set them."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from typing import Dict

import pytest

from flink_py.common import RestartStrategies
from flink_py.common.configuration import Configuration
from flink_py.common.time import Duration
from flink_py.datastream import (
    CheckpointConfig, CheckpointingMode, EmbeddedRocksDBStateBackend,
    ExternalizedCheckpointRetention, FileSystemCheckpointStorage, FsStateBackend,
    HashMapStateBackend, JobManagerCheckpointStorage, MemoryStateBackend, RocksDBStateBackend,
    StreamExecutionEnvironment)
from flink_py.datastream.checkpointing_mode import CheckpointingMode as ModeAtPyFlinkPath
from flink_py.errors import InvalidProgramError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _env(configuration: Configuration = None) -> StreamExecutionEnvironment:
    return StreamExecutionEnvironment(configuration if configuration is not None
                                      else Configuration())


def _job_configuration(env: StreamExecutionEnvironment) -> Dict[str, str]:
    env.from_collection([1, 2]).print()
    return env.get_job_graph("job").job_configuration


def _subset(config: Dict[str, str], prefixes=("execution.checkpointing", "state.",
                                              "restart-strategy")) -> Dict[str, str]:
    return {k: v for k, v in config.items() if k.startswith(prefixes)}


# -- CheckpointConfig ---------------------------------------------------------------------


def test_checkpointing_is_off_until_an_interval_is_set():
    config = _env().get_checkpoint_config()
    assert not config.is_checkpointing_enabled()
    assert config.get_checkpoint_interval() == -1
    assert config.get_checkpointing_mode() is CheckpointingMode.EXACTLY_ONCE
    assert config.get_checkpoint_timeout() == CheckpointConfig.DEFAULT_TIMEOUT == 600_000
    assert config.get_min_pause_between_checkpoints() == 0
    assert config.get_max_concurrent_checkpoints() == 1
    assert config.get_tolerable_checkpoint_failure_number() == 0
    assert not config.is_unaligned_checkpoints_enabled()
    assert not config.is_externalized_checkpoints_enabled()
    assert config.get_checkpoint_storage() is None


def test_enable_checkpointing_writes_interval_and_mode_as_flinks_keys():
    env = _env()
    env.enable_checkpointing(5000, CheckpointingMode.AT_LEAST_ONCE)
    assert env.get_checkpoint_interval() == 5000
    assert env.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE
    assert env.get_checkpointing_consistency_mode() is CheckpointingMode.AT_LEAST_ONCE
    assert env.get_checkpoint_config().is_checkpointing_enabled()
    assert _subset(_job_configuration(env)) == {
        "execution.checkpointing.interval": "5 s",
        "execution.checkpointing.mode": "AT_LEAST_ONCE",
    }


def test_every_checkpoint_config_setter_lands_in_the_job_configuration():
    env = _env()
    (env.get_checkpoint_config()
     .set_checkpoint_interval(60_000)
     .set_checkpoint_timeout(120_000)
     .set_min_pause_between_checkpoints(500)
     .set_max_concurrent_checkpoints(2)
     .set_tolerable_checkpoint_failure_number(3)
     .enable_unaligned_checkpoints()
     .set_aligned_checkpoint_timeout(Duration.of_seconds(2))
     .set_force_unaligned_checkpoints(True)
     .set_externalized_checkpoint_retention(
         ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION)
     .set_checkpoint_storage_dir("file:///tmp/chk"))
    assert _subset(_job_configuration(env)) == {
        "execution.checkpointing.interval": "1 min",
        "execution.checkpointing.timeout": "2 min",
        "execution.checkpointing.min-pause": "500 ms",
        "execution.checkpointing.max-concurrent-checkpoints": "2",
        "execution.checkpointing.tolerable-failed-checkpoints": "3",
        "execution.checkpointing.unaligned.enabled": "true",
        "execution.checkpointing.aligned-checkpoint-timeout": "2 s",
        "execution.checkpointing.unaligned.forced": "true",
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.storage": "filesystem",
        "execution.checkpointing.dir": "file:///tmp/chk",
    }


def test_getters_read_back_what_the_setters_wrote():
    config = _env().get_checkpoint_config()
    config.set_checkpoint_timeout(30_000).set_max_concurrent_checkpoints(3)
    config.set_externalized_checkpoint_retention(
        ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION)
    config.set_aligned_checkpoint_timeout(Duration.of_millis(250))
    assert config.get_checkpoint_timeout() == 30_000
    assert config.get_max_concurrent_checkpoints() == 3
    assert config.is_externalized_checkpoints_enabled()
    assert (config.get_externalized_checkpoint_retention()
            is ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION)
    assert config.get_aligned_checkpoint_timeout() == Duration.of_millis(250)
    assert config.get_alignment_timeout() == Duration.of_millis(250)
    config.disable_unaligned_checkpoints()
    assert not config.is_unaligned_checkpoints_enabled()


@pytest.mark.parametrize("call,message", [
    (lambda c: c.set_checkpoint_interval(5),
     "Checkpoint interval must be larger than or equal to 10 ms"),
    (lambda c: c.set_checkpoint_timeout(9),
     "Checkpoint timeout must be larger than or equal to 10 ms"),
    (lambda c: c.set_checkpoint_timeout(-1),
     "Checkpoint timeout must be larger than or equal to 10 ms"),
    (lambda c: c.set_min_pause_between_checkpoints(-1), "Pause value must be zero or positive"),
    (lambda c: c.set_max_concurrent_checkpoints(0),
     "The maximum number of concurrent attempts must be at least one"),
    (lambda c: c.set_tolerable_checkpoint_failure_number(-1),
     "The tolerable failure checkpoint number must be non-negative"),
    (lambda c: c.set_checkpoint_interval("1s"), "must be an int"),
    (lambda c: c.set_checkpointing_mode("EXACTLY_ONCE"), "expects a CheckpointingMode"),
    (lambda c: c.set_externalized_checkpoint_retention("RETAIN"),
     "expects an ExternalizedCheckpointRetention"),
    (lambda c: c.set_checkpoint_storage(5), "expects a CheckpointStorage"),
])
def test_invalid_checkpoint_settings_are_rejected_with_flinks_message(call, message):
    with pytest.raises(InvalidProgramError, match=message):
        call(_env().get_checkpoint_config())


def test_enable_checkpointing_below_10_ms_is_rejected():
    with pytest.raises(InvalidProgramError, match="larger than or equal to 10 ms, got 1 ms"):
        _env().enable_checkpointing(1)


def test_fail_on_checkpointing_errors_maps_to_the_tolerable_failure_number():
    config = _env().get_checkpoint_config()
    assert config.is_fail_on_checkpointing_errors()
    config.set_fail_on_checkpointing_errors(False)
    assert config.get_tolerable_checkpoint_failure_number() == 2 ** 31 - 1
    assert not config.is_fail_on_checkpointing_errors()


def test_prefer_checkpoint_for_recovery_is_accepted_as_a_no_op():
    env = _env()
    config = env.get_checkpoint_config()
    assert config.set_prefer_checkpoint_for_recovery(True) is config
    assert config.is_prefer_checkpoint_for_recovery() is False
    assert _subset(_job_configuration(env)) == {}


def test_flink_1_camel_case_spellings_are_aliases():
    config = _env().get_checkpoint_config()
    config.setCheckpointInterval(1000)
    config.setCheckpointMode(CheckpointingMode.AT_LEAST_ONCE)
    assert config.isCheckpointingEnabled()
    assert config.getCheckpointingMode() is CheckpointingMode.AT_LEAST_ONCE
    assert config.setPreferCheckpointForRecovery(True) is config
    with pytest.raises(AttributeError, match="noSuchSetting"):
        config.noSuchSetting()


def test_checkpointing_mode_is_exported_at_pyflinks_paths():
    assert ModeAtPyFlinkPath is CheckpointingMode
    assert [m.name for m in CheckpointingMode] == ["EXACTLY_ONCE", "AT_LEAST_ONCE"]
    assert [m.value for m in ExternalizedCheckpointRetention] == [0, 1, 2]


# -- configuration from other paths ------------------------------------------------------------


def test_configuration_given_to_get_execution_environment_reaches_the_job(monkeypatch):
    monkeypatch.delenv("FLINK_CONF_DIR", raising=False)
    conf = Configuration().set_string("execution.checkpointing.interval", "30 s")
    conf.set_string("state.backend.type", "rocksdb")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    assert env.get_checkpoint_interval() == 30_000
    assert isinstance(env.get_state_backend(), EmbeddedRocksDBStateBackend)
    job = _job_configuration(env)
    assert job["execution.checkpointing.interval"] == "30 s"
    assert job["state.backend.type"] == "rocksdb"


def test_configure_sets_the_options_it_names_and_keeps_the_rest():
    env = _env()
    env.set_parallelism(3)
    env.enable_checkpointing(1000)
    env.configure(Configuration().set_string("execution.checkpointing.timeout", "1 min")
                  .set_string("restart-strategy.type", "none"))
    assert env.get_checkpoint_interval() == 1000
    assert env.get_checkpoint_config().get_checkpoint_timeout() == 60_000
    assert env.get_parallelism() == 3
    job = _job_configuration(env)
    assert job["execution.checkpointing.timeout"] == "1 min"
    assert job["restart-strategy.type"] == "none"
    assert job["parallelism.default"] == "3"


def test_flink_1_keys_are_read_as_deprecated_keys():
    env = _env(Configuration().set_string("state.checkpoints.dir", "/tmp/old")
               .set_string("state.backend", "rocksdb"))
    storage = env.get_checkpoint_config().get_checkpoint_storage()
    assert isinstance(storage, FileSystemCheckpointStorage)
    assert storage.get_checkpoint_path() == "/tmp/old"
    assert isinstance(env.get_state_backend(), EmbeddedRocksDBStateBackend)


def test_flink_run_dynamic_properties_reach_the_job_configuration(tmp_path):
    (tmp_path / "config.yaml").write_text("parallelism.default: 1\n")
    program = tmp_path / "job.py"
    program.write_text(textwrap.dedent("""
        from flink_py.datastream import StreamExecutionEnvironment
        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection([1]).print()
        config = env.get_job_graph("j").job_configuration
        for key in sorted(config):
            if key.startswith(("execution.checkpointing", "restart-strategy")):
                print("KEY", key, config[key])
        env.from_collection([1]).print()
        env.execute("j")
    """))
    env = dict(os.environ, PYTHONPATH=REPO, FLINK_CONF_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "flink_py.cli.main", "info",
         "-D", "execution.checkpointing.interval=10s",
         "-D", "restart-strategy.type=fixed-delay", str(program)],
        capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr
    keys = [line for line in result.stdout.splitlines() if line.startswith("KEY")]
    assert keys == ["KEY execution.checkpointing.interval 10s",
                    "KEY restart-strategy.type fixed-delay"]


# -- state backends and checkpoint storage --------------------------------------------------


@pytest.mark.parametrize("backend,expected", [
    (HashMapStateBackend(), {"state.backend.type": "hashmap"}),
    (EmbeddedRocksDBStateBackend(), {"state.backend.type": "rocksdb"}),
    (EmbeddedRocksDBStateBackend(enable_incremental_checkpointing=True),
     {"state.backend.type": "rocksdb", "execution.checkpointing.incremental": "true"}),
    (MemoryStateBackend(), {
        "state.backend.type": "hashmap", "execution.checkpointing.storage": "jobmanager",
        "execution.checkpointing.jobmanager-storage.max-state-size": "5 mb"}),
    (MemoryStateBackend(max_state_size=1024, savepoint_path="/sp"), {
        "state.backend.type": "hashmap", "execution.checkpointing.storage": "jobmanager",
        "execution.checkpointing.jobmanager-storage.max-state-size": "1 kb",
        "execution.checkpointing.savepoint-dir": "/sp"}),
    (FsStateBackend("file:///tmp/fs", file_state_size_threshold=100), {
        "state.backend.type": "hashmap", "execution.checkpointing.storage": "filesystem",
        "execution.checkpointing.dir": "file:///tmp/fs",
        "execution.checkpointing.data-inline-threshold": "100 bytes"}),
    (RocksDBStateBackend("file:///tmp/rocks", True), {
        "state.backend.type": "rocksdb", "execution.checkpointing.incremental": "true",
        "execution.checkpointing.storage": "filesystem",
        "execution.checkpointing.dir": "file:///tmp/rocks"}),
])
def test_state_backends_write_flinks_keys(backend, expected):
    env = _env()
    env.set_state_backend(backend)
    assert env.get_state_backend() is backend
    assert _subset(_job_configuration(env)) == expected


def test_the_1_x_backends_set_the_checkpoint_storage_they_stood_for():
    env = _env()
    env.set_state_backend(FsStateBackend("/tmp/fs", "/tmp/sp"))
    storage = env.get_checkpoint_config().get_checkpoint_storage()
    assert storage == FileSystemCheckpointStorage("/tmp/fs")
    assert env.get_default_savepoint_directory() == "/tmp/sp"
    env.set_state_backend(MemoryStateBackend(max_state_size=2048))
    storage = env.get_checkpoint_config().get_checkpoint_storage()
    assert isinstance(storage, JobManagerCheckpointStorage)
    assert storage.get_max_state_size() == 2048


def test_rocksdb_settings_reach_the_configuration():
    backend = EmbeddedRocksDBStateBackend(False)
    backend.set_db_storage_paths("/data/a", "file:///data/b")
    backend.set_number_of_transfer_threads(2)
    assert backend.get_db_storage_paths() == ["/data/a", "/data/b"]
    assert not backend.is_incremental_checkpoints_enabled()
    env = _env()
    env.set_state_backend(backend)
    job = _job_configuration(env)
    assert job["state.backend.rocksdb.localdir"] == "/data/a,/data/b"
    assert job["state.backend.rocksdb.checkpoint.transfer.thread.num"] == "2"
    assert job["execution.checkpointing.incremental"] == "false"


def test_get_state_backend_follows_a_later_configuration_change():
    env = _env()
    env.set_state_backend(HashMapStateBackend())
    env.configure(Configuration().set_string("state.backend.type", "rocksdb"))
    assert isinstance(env.get_state_backend(), EmbeddedRocksDBStateBackend)


def test_a_checkpoint_storage_directory_string_is_a_file_system_storage(tmp_path):
    config = _env().get_checkpoint_config()
    config.set_checkpoint_storage(tmp_path)
    assert config.get_checkpoint_storage() == FileSystemCheckpointStorage(str(tmp_path))


def test_no_state_backend_is_none():
    assert _env().get_state_backend() is None


def test_checkpoint_storages_write_flinks_keys():
    env = _env()
    config = env.get_checkpoint_config()
    config.set_checkpoint_storage(FileSystemCheckpointStorage("/tmp/x", 1024, 8192))
    assert _subset(_job_configuration(env)) == {
        "execution.checkpointing.storage": "filesystem",
        "execution.checkpointing.dir": "/tmp/x",
        "execution.checkpointing.data-inline-threshold": "1 kb",
        "execution.checkpointing.write-buffer-size": "8192",
    }
    storage = config.get_checkpoint_storage()
    assert storage.get_min_file_size_threshold() == 1024
    assert storage.get_write_buffer_size() == 8192
    config.set_checkpoint_storage(JobManagerCheckpointStorage())
    assert isinstance(config.get_checkpoint_storage(), JobManagerCheckpointStorage)
    assert env.get_configuration().get_string("execution.checkpointing.dir") is None


@pytest.mark.parametrize("make,message", [
    (lambda: FileSystemCheckpointStorage(""), "non-empty path"),
    (lambda: FileSystemCheckpointStorage("/x", 2 * 1024 * 1024),
     r"The threshold for file state size must be in \[-1, 1048576\]"),
    (lambda: FileSystemCheckpointStorage("/x", None, -2),
     "The write buffer size must be not less than '-1'"),
    (lambda: JobManagerCheckpointStorage(max_state_size=0), "positive int"),
    (lambda: EmbeddedRocksDBStateBackend("yes"), "must be a bool or None"),
    (lambda: RocksDBStateBackend(), "needs a checkpoint_data_uri"),
])
def test_invalid_backend_and_storage_arguments_are_rejected(make, message):
    with pytest.raises(InvalidProgramError, match=message):
        make()


def test_set_state_backend_rejects_what_is_not_a_state_backend():
    with pytest.raises(InvalidProgramError, match="expects a StateBackend"):
        _env().set_state_backend("rocksdb")


# -- restart strategies ---------------------------------------------------------------------


@pytest.mark.parametrize("strategy,expected", [
    (RestartStrategies.no_restart(), {"restart-strategy.type": "none"}),
    (RestartStrategies.fall_back_restart(), {}),
    (RestartStrategies.fixed_delay_restart(3, datetime.timedelta(seconds=10)), {
        "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3",
        "restart-strategy.fixed-delay.delay": "10 s"}),
    (RestartStrategies.failure_rate_restart(2, 60_000, Duration.of_millis(500)), {
        "restart-strategy.type": "failure-rate",
        "restart-strategy.failure-rate.max-failures-per-interval": "2",
        "restart-strategy.failure-rate.failure-rate-interval": "1 min",
        "restart-strategy.failure-rate.delay": "500 ms"}),
    (RestartStrategies.exponential_delay_restart(100, 10_000, 2.0, 60_000, 0.1), {
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "100 ms",
        "restart-strategy.exponential-delay.max-backoff": "10 s",
        "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
        "restart-strategy.exponential-delay.reset-backoff-threshold": "1 min",
        "restart-strategy.exponential-delay.jitter-factor": "0.1"}),
])
def test_restart_strategies_write_flinks_keys_and_read_back(strategy, expected):
    env = _env()
    env.set_restart_strategy(strategy)
    assert env.get_restart_strategy() == strategy
    assert _subset(_job_configuration(env), ("restart-strategy",)) == expected


def test_a_new_restart_strategy_replaces_the_settings_of_the_old_one():
    env = _env()
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 1000))
    env.set_restart_strategy(RestartStrategies.no_restart())
    assert _subset(_job_configuration(env), ("restart-strategy",)) == {
        "restart-strategy.type": "none"}


def test_restart_strategy_getters_and_errors():
    fixed = RestartStrategies.fixed_delay_restart(3, 1500)
    assert fixed.get_restart_attempts() == 3
    assert fixed.get_delay_between_attempts_interval() == datetime.timedelta(milliseconds=1500)
    rate = RestartStrategies.failure_rate_restart(1, datetime.timedelta(minutes=1), 10)
    assert rate.get_failure_interval() == datetime.timedelta(minutes=1)
    with pytest.raises(InvalidProgramError, match="only supports an int of milliseconds"):
        RestartStrategies.fixed_delay_restart(3, "1s")
    with pytest.raises(InvalidProgramError, match="must not be negative"):
        RestartStrategies.fixed_delay_restart(3, -1)
    with pytest.raises(InvalidProgramError, match="jitter_factor"):
        RestartStrategies.exponential_delay_restart(1, 2, 1.5, 3, 2.0)
    with pytest.raises(InvalidProgramError, match="expects a RestartStrategyConfiguration"):
        _env().set_restart_strategy("none")


def test_restart_strategy_from_the_configuration_with_flinks_old_names():
    env = _env(Configuration().set_string("restart-strategy", "fixeddelay")
               .set_string("restart-strategy.fixed-delay.attempts", "4"))
    strategy = env.get_restart_strategy()
    assert isinstance(strategy, RestartStrategies.FixedDelayRestartStrategyConfiguration)
    assert strategy.get_restart_attempts() == 4
    assert isinstance(_env().get_restart_strategy(),
                      RestartStrategies.FallbackRestartStrategyConfiguration)
    assert _env().get_config().get_restart_strategy() == RestartStrategies.fall_back_restart()


def test_savepoint_directory_is_flinks_key():
    env = _env()
    env.set_default_savepoint_directory("/tmp/savepoints")
    assert env.get_default_savepoint_directory() == "/tmp/savepoints"
    assert _job_configuration(env)["execution.checkpointing.savepoint-dir"] == "/tmp/savepoints"
