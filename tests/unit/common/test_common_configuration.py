"""Configuration, ConfigOption parsing, the declared options and GlobalConfiguration."""

from __future__ import annotations

import copy
import datetime
import logging
import os
import subprocess
import sys
import textwrap
from enum import Enum
from pathlib import Path

import pytest

from flink_py.common import config_options as opts
from flink_py.common.configuration import (
    ConfigOption,
    ConfigType,
    Configuration,
    GlobalConfiguration,
    format_duration,
    format_memory_size,
    parse_duration,
    parse_memory_size,
)
from flink_py.common.time import Duration
from flink_py.errors import ConfigurationError

REPO = str(Path(__file__).resolve().parents[3])

# ------------------------------------------------------------------------------ PyFlink API


def test_string_accessors_and_chaining() -> None:
    conf = Configuration()
    assert conf.set_string("a", "1").set_string("b", "x") is conf
    assert conf.get_string("a", "d") == "1"
    assert conf.get_string("missing", "d") == "d"
    assert conf.get_string("missing") is None


def test_integer_float_boolean_accessors() -> None:
    conf = Configuration().set_integer("i", 7).set_float("f", 0.5).set_boolean("b", True)
    assert conf.get_integer("i", 0) == 7
    assert conf.get_float("f", 0.0) == 0.5
    assert conf.get_boolean("b", False) is True
    assert conf.get_integer("missing", 3) == 3
    assert conf.to_dict() == {"i": "7", "f": "0.5", "b": "true"}


def test_typed_getters_parse_strings() -> None:
    conf = Configuration().set_string("i", " 42 ").set_string("f", "1e3").set_string("b", "FALSE")
    assert conf.get_integer("i", 0) == 42
    assert conf.get_float("f", 0.0) == 1000.0
    assert conf.get_boolean("b", True) is False
    assert conf.get_string("i") == " 42 "


@pytest.mark.parametrize(
    "getter, value, expected",
    [
        ("get_integer", "abc", "Could not parse value 'abc' for configuration key 'k': expected a long"),
        ("get_integer", "1.5", "Could not parse value '1.5' for configuration key 'k'"),
        ("get_boolean", "yes", "Could not parse value 'yes' for configuration key 'k': expected 'true' or 'false'"),
        ("get_float", "fast", "Could not parse value 'fast' for configuration key 'k': expected a floating point"),
    ],
)
def test_malformed_values_name_key_value_and_form(getter: str, value: str, expected: str) -> None:
    conf = Configuration().set_string("k", value)
    with pytest.raises(ConfigurationError, match=expected):
        getattr(conf, getter)("k", None)


def test_set_integer_rejects_non_integers() -> None:
    with pytest.raises(ConfigurationError, match="for configuration key 'n'"):
        Configuration().set_integer("n", "many")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Configuration().set_integer("n", True)


def test_bytearray_round_trip() -> None:
    conf = Configuration().set_bytearray("bytes", bytearray(b"\x00\x01\xff"))
    assert conf.get_bytearray("bytes", None) == bytearray(b"\x00\x01\xff")
    copy_via_dict = Configuration(conf.to_dict())
    assert copy_via_dict.get_bytearray("bytes", None) == bytearray(b"\x00\x01\xff")
    assert conf.get_bytearray("missing", bytearray(b"d")) == bytearray(b"d")
    with pytest.raises(ConfigurationError, match="expected bytes"):
        Configuration().set_string("s", "not base64!").get_bytearray("s", None)


def test_keys_contains_remove_and_add_all() -> None:
    conf = Configuration().set_string("a", "1").set_string("b", "2")
    assert conf.key_set() == conf.keys() == {"a", "b"}
    assert conf.contains_key("a") and "a" in conf and not conf.contains_key("c")
    assert conf.remove_config("a") is True
    assert conf.remove_config("a") is False
    other = Configuration().set_string("x", "9")
    conf.add_all(other).add_all(other, prefix="p.")
    assert conf.to_dict() == {"b": "2", "x": "9", "p.x": "9"}
    target: dict = {"keep": "me"}
    conf.add_all_to_dict(target)
    assert target == {"keep": "me", "b": "2", "x": "9", "p.x": "9"}


def test_equality_copy_and_str() -> None:
    a = Configuration().set_integer("n", 4).set_string("user.password", "hunter2")
    b = Configuration().set_string("n", "4").set_string("user.password", "hunter2")
    assert a == b and hash(a) == hash(b)
    assert a != Configuration() and a != {"n": "4"}
    c = copy.deepcopy(a)
    c.set_string("n", "5")
    assert a.get_integer("n", 0) == 4 and Configuration(a) == a
    assert str(a) == "{n=4, user.password=******}"


def test_configuration_rejects_bad_keys_and_none_values() -> None:
    with pytest.raises(ConfigurationError, match="non-empty string"):
        Configuration().set_string("", "x")
    with pytest.raises(ConfigurationError, match="must not be None"):
        Configuration({"k": None})


# ------------------------------------------------------------------------------ typed options


def test_declared_defaults_are_flinks() -> None:
    conf = Configuration()
    assert conf.get(opts.DEFAULT_PARALLELISM) == 1
    assert conf.get(opts.MAX_PARALLELISM) == -1
    assert conf.get(opts.BUFFER_TIMEOUT) == 100
    assert conf.get(opts.RUNTIME_MODE) == "STREAMING"
    assert conf.get(opts.AUTO_WATERMARK_INTERVAL) == 200
    assert conf.get(opts.OPERATOR_CHAINING) is True
    assert conf.get(opts.PIPELINE_NAME) is None
    assert conf.get(opts.NUM_TASK_SLOTS) == 1
    assert conf.get(opts.JOB_MANAGER_RPC_ADDRESS) == "localhost"
    assert conf.get(opts.JOB_MANAGER_RPC_PORT) == 6123
    assert conf.get(opts.REST_ADDRESS) == "localhost"
    assert conf.get(opts.REST_PORT) == 8081
    assert conf.get(opts.REST_BIND_ADDRESS) == "localhost"
    assert conf.get(opts.TASK_MANAGER_HOST) is None
    assert conf.get(opts.HEARTBEAT_INTERVAL) == 10_000
    assert conf.get(opts.HEARTBEAT_TIMEOUT) == 50_000
    assert conf.get(opts.NETWORK_BUFFERS_PER_CHANNEL) == 2
    assert conf.get(opts.NETWORK_EXTRA_BUFFERS_PER_GATE) == 8
    assert conf.get(opts.NETWORK_RECORDS_PER_BUFFER) == 1024


def test_declared_keys_are_flinks() -> None:
    assert opts.BUFFER_TIMEOUT.key == "execution.buffer-timeout.interval"
    assert opts.BUFFER_TIMEOUT.deprecated_keys == ("execution.buffer-timeout",)
    assert opts.NETWORK_BUFFERS_PER_CHANNEL.key == "taskmanager.network.memory.buffers-per-channel"
    assert opts.NETWORK_EXTRA_BUFFERS_PER_GATE.key == (
        "taskmanager.network.memory.floating-buffers-per-gate")
    assert opts.OPERATOR_CHAINING.deprecated_keys == ("pipeline.operator-chaining",)
    keys = [option.key for option in opts.ALL_OPTIONS]
    assert len(keys) == len(set(keys))
    assert all(option.description for option in opts.ALL_OPTIONS)


def test_option_for_key() -> None:
    assert opts.option_for_key("execution.buffer-timeout.interval") is opts.BUFFER_TIMEOUT
    assert opts.option_for_key("execution.buffer-timeout") is opts.BUFFER_TIMEOUT
    assert opts.option_for_key("no.such.key") is None


def test_deprecated_key_is_read_and_new_key_wins(caplog: pytest.LogCaptureFixture) -> None:
    conf = Configuration().set_string("execution.buffer-timeout", "5 ms")
    with caplog.at_level(logging.WARNING):
        assert conf.get(opts.BUFFER_TIMEOUT) == 5
    conf.set_string("execution.buffer-timeout.interval", "7ms")
    assert conf.get(opts.BUFFER_TIMEOUT) == 7
    assert conf.contains(opts.BUFFER_TIMEOUT)
    assert conf.remove_config(opts.BUFFER_TIMEOUT) is True
    assert conf.to_dict() == {} and not conf.contains(opts.BUFFER_TIMEOUT)


def test_fallback_keys() -> None:
    conf = Configuration().set_string("jobmanager.rpc.address", "jm-host")
    assert conf.get(opts.REST_ADDRESS) == "jm-host"
    conf.set_string("rest.address", "rest-host")
    assert conf.get(opts.REST_ADDRESS) == "rest-host"
    assert Configuration().set_integer("rest.port", 9000).get(opts.REST_BIND_PORT) == "9000"


def test_set_validates_and_stores_flinks_string_form() -> None:
    conf = Configuration()
    conf.set(opts.BUFFER_TIMEOUT, 60_000).set(opts.RUNTIME_MODE, "batch")
    conf.set(opts.HEARTBEAT_TIMEOUT, Duration.of_seconds(3)).set(opts.PIPELINE_NAME, "job")
    assert conf.to_dict() == {
        "execution.buffer-timeout.interval": "1 min",
        "execution.runtime-mode": "BATCH",
        "heartbeat.timeout": "3 s",
        "pipeline.name": "job",
    }
    assert conf.get(opts.BUFFER_TIMEOUT) == 60_000
    assert conf.get(opts.RUNTIME_MODE) == "BATCH"
    with pytest.raises(ConfigurationError, match="'execution.runtime-mode': expected one of STREAMING, BATCH, AUTOMATIC"):
        conf.set(opts.RUNTIME_MODE, "fast")
    with pytest.raises(ConfigurationError, match="'parallelism.default': expected an int"):
        conf.set(opts.DEFAULT_PARALLELISM, "four")


@pytest.mark.parametrize(
    "text, millis",
    [
        ("100 ms", 100), ("100ms", 100), ("10 s", 10_000), ("10s", 10_000), ("1 min", 60_000),
        ("1m", 60_000), ("2 h", 7_200_000), ("1 d", 86_400_000), ("250", 250),
        ("3 seconds", 3000), ("2 MIN", 120_000), ("  5 ms  ", 5), ("1500 µs", 1),
        ("999999 ns", 0), ("1 days", 86_400_000), ("0", 0),
    ],
)
def test_duration_syntax(text: str, millis: int) -> None:
    option = opts.HEARTBEAT_INTERVAL
    assert Configuration().set_string(option.key, text).get(option) == millis
    assert parse_duration(text).to_milliseconds() == millis


@pytest.mark.parametrize("bad", ["", "   ", "ms", "10 parsecs", "-5 s", "1.5 s", "10 s s", "abc"])
def test_malformed_durations(bad: str) -> None:
    option = opts.HEARTBEAT_INTERVAL
    with pytest.raises(ConfigurationError) as raised:
        Configuration().set_string(option.key, bad).get(option)
    message = str(raised.value)
    assert "heartbeat.interval" in message and repr(bad) in message
    assert "expected a duration such as '100 ms'" in message
    with pytest.raises(ConfigurationError, match="Could not parse duration"):
        parse_duration(bad)


def test_duration_from_yaml_int_and_timedelta() -> None:
    conf = Configuration({"heartbeat.interval": 2500, "heartbeat.timeout": datetime.timedelta(seconds=2)})
    assert conf.get(opts.HEARTBEAT_INTERVAL) == 2500
    assert conf.get(opts.HEARTBEAT_TIMEOUT) == 2000


def test_negative_durations_round_trip_as_bare_millis() -> None:
    conf = Configuration().set(opts.LATENCY_INTERVAL, -5)
    assert conf.get(opts.LATENCY_INTERVAL) == -5


@pytest.mark.parametrize(
    "millis, text",
    [(0, "0 ms"), (100, "100 ms"), (1000, "1 s"), (60_000, "1 min"), (3_601_000, "3601 s"),
     (7_200_000, "2 h"), (86_400_000, "1 d")],
)
def test_format_duration_uses_highest_exact_unit(millis: int, text: str) -> None:
    assert format_duration(millis) == text
    assert parse_duration(text).to_milliseconds() == millis


@pytest.mark.parametrize(
    "text, num_bytes",
    [("1728m", 1728 << 20), ("1g", 1 << 30), ("64 mb", 64 << 20), ("1024", 1024),
     ("2 KB", 2048), ("1t", 1 << 40), ("5 bytes", 5), ("3 gibibytes", 3 << 30)],
)
def test_memory_sizes(text: str, num_bytes: int) -> None:
    assert parse_memory_size(text) == num_bytes
    option = ConfigOption("taskmanager.memory.process.size", ConfigType.MEMORY_SIZE, None, "TM size")
    assert Configuration().set_string(option.key, text).get(option) == num_bytes


def test_malformed_memory_size() -> None:
    option = ConfigOption("taskmanager.memory.process.size", ConfigType.MEMORY_SIZE, None, "TM size")
    with pytest.raises(ConfigurationError, match=r"'1\.5g' for configuration key 'taskmanager\.memory\.process\.size': expected a memory size"):
        Configuration().set_string(option.key, "1.5g").get(option)
    with pytest.raises(ConfigurationError, match="memory unit 'parsecs'"):
        parse_memory_size("10 parsecs")
    assert format_memory_size(1728 << 20) == "1728 mb"
    assert format_memory_size(0) == "0 bytes"


def test_enum_class_options_are_case_insensitive() -> None:
    class Mode(Enum):
        STREAMING = "streaming"
        BATCH = "batch"

    option = ConfigOption("execution.runtime-mode", Mode, Mode.STREAMING, "mode")
    conf = Configuration().set_string(option.key, "Batch")
    assert conf.get(option) is Mode.BATCH
    conf.set(option, Mode.STREAMING)
    assert conf.get_string(option.key) == "STREAMING"
    with pytest.raises(ConfigurationError, match="expected one of STREAMING, BATCH"):
        Configuration().set_string(option.key, "both").get(option)


def test_list_and_map_options() -> None:
    conf = Configuration({"pipeline.registered-kryo-types": ["a.B", "c.D"]})
    assert conf.get(opts.KRYO_REGISTERED_CLASSES) == ["a.B", "c.D"]
    assert conf.get_string("pipeline.registered-kryo-types") == "a.B;c.D"
    assert Configuration().set_string("x", "a; b;").get(
        ConfigOption("x", ConfigType.LIST, None, "list")) == ["a", "b"]
    conf.set_string("pipeline.global-job-parameters", "k1:v1, k2:v2")
    assert conf.get(opts.GLOBAL_JOB_PARAMETERS) == {"k1": "v1", "k2": "v2"}
    with pytest.raises(ConfigurationError, match="expected a map such as 'k1:v1,k2:v2'"):
        Configuration().set_string("pipeline.global-job-parameters", "novalue").get(
            opts.GLOBAL_JOB_PARAMETERS)


def test_int_range_and_type_checks() -> None:
    option = opts.DEFAULT_PARALLELISM
    assert Configuration().set_string(option.key, "+4").get(option) == 4
    for bad in ("2147483648", "4.0", "0x10", "4 slots"):
        with pytest.raises(ConfigurationError, match="expected an int in"):
            Configuration().set_string(option.key, bad).get(option)
    with pytest.raises(ConfigurationError):
        Configuration({option.key: True}).get(option)
    with pytest.raises(ConfigurationError):
        Configuration({option.key: 4.0}).get(option)


def test_get_optional() -> None:
    conf = Configuration()
    assert conf.get_optional(opts.DEFAULT_PARALLELISM) is None
    assert conf.set(opts.DEFAULT_PARALLELISM, 3).get_optional(opts.DEFAULT_PARALLELISM) == 3


def test_config_option_declarations_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="non-empty string key"):
        ConfigOption("", ConfigType.INT, 1, "x")
    with pytest.raises(ConfigurationError, match="expected a ConfigType or an Enum subclass"):
        ConfigOption("a.b", int, 1, "x")
    with pytest.raises(ConfigurationError, match="needs choices"):
        ConfigOption("a.b", ConfigType.ENUM, None, "x")
    with pytest.raises(ConfigurationError, match="Could not parse value 'ten' for configuration key 'a.b'"):
        ConfigOption("a.b", ConfigType.DURATION, "ten", "x")
    assert ConfigOption("a.b", ConfigType.DURATION, "1 min", "x").default == 60_000
    assert not ConfigOption("a.b", ConfigType.STRING, None, "x").has_default_value()


# ------------------------------------------------------------------------------ config files


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_load_nested_config_yaml(tmp_path: Path) -> None:
    _write(tmp_path, "config.yaml", """
        jobmanager:
          rpc:
            address: jm
            port: 6124
        taskmanager:
          numberOfTaskSlots: 4
        parallelism.default: 2
        execution:
          buffer-timeout:
            interval: 10ms
        pipeline.registered-kryo-types: [a.B, c.D]
        """)
    conf = GlobalConfiguration.load_configuration(str(tmp_path))
    assert conf.get(opts.JOB_MANAGER_RPC_ADDRESS) == "jm"
    assert conf.get(opts.JOB_MANAGER_RPC_PORT) == 6124
    assert conf.get(opts.NUM_TASK_SLOTS) == 4
    assert conf.get(opts.DEFAULT_PARALLELISM) == 2
    assert conf.get(opts.BUFFER_TIMEOUT) == 10
    assert conf.get(opts.KRYO_REGISTERED_CLASSES) == ["a.B", "c.D"]


def test_config_yaml_wins_over_flink_conf_yaml(tmp_path: Path) -> None:
    _write(tmp_path, "config.yaml", "parallelism.default: 3\n")
    _write(tmp_path, "flink-conf.yaml", "parallelism.default: 9\n")
    assert GlobalConfiguration.load_configuration(tmp_path).get(opts.DEFAULT_PARALLELISM) == 3


def test_load_legacy_flink_conf_yaml_in_both_notations(tmp_path: Path) -> None:
    _write(tmp_path, "flink-conf.yaml", """
        # comment : with colons
        jobmanager.rpc.address: localhost   # trailing comment
        taskmanager.numberOfTaskSlots: 2
        heartbeat:
          interval: 5 s
        high-availability.zookeeper.quorum: host1:2181,host2:2181
        """)
    conf = GlobalConfiguration.load_configuration(str(tmp_path))
    assert conf.get(opts.NUM_TASK_SLOTS) == 2
    assert conf.get(opts.HEARTBEAT_INTERVAL) == 5000
    assert conf.get_string("high-availability.zookeeper.quorum") == "host1:2181,host2:2181"
    assert conf.get_string("jobmanager.rpc.address") == "localhost"


def test_legacy_file_that_is_not_yaml_is_read_line_by_line(tmp_path: Path) -> None:
    # Flink <= 1.18 files whose values are not YAML still load, line by line.
    _write(tmp_path, "flink-conf.yaml", """
        env.java.opts: -Dfoo=a: b
        # a comment
        web.tmpdir: %TEMP%
        """)
    conf = GlobalConfiguration.load_configuration(str(tmp_path))
    assert conf.get_string("env.java.opts") == "-Dfoo=a: b"
    assert conf.get_string("web.tmpdir") == "%TEMP%"
    assert len(conf) == 2


@pytest.mark.parametrize("junk, line", [
    ("env.java.opts: -Dfoo=a: b\nnot a key value line\n", 2),   # not YAML, then junk
    ("parallelism.default: 1\nnot a key value line\n", 2),      # YAML but for the junk
    ("rest.port 8081\n", 1),                                    # YAML: a string, no mapping
    ("a: 1\n# fine\nweb.tmpdir: %TEMP%\nspaced key: 3\n", 4),      # a blank in a key
])
def test_malformed_legacy_file_is_an_error_naming_file_and_line(
        tmp_path: Path, junk: str, line: int) -> None:
    (tmp_path / "flink-conf.yaml").write_text(junk, encoding="utf-8")
    path = tmp_path / "flink-conf.yaml"
    bad = junk.splitlines()[line - 1]
    with pytest.raises(ConfigurationError) as raised:
        GlobalConfiguration.load_configuration(str(tmp_path))
    message = str(raised.value)
    assert message.startswith(f"Could not parse configuration file {path}: line {line} "
                              f"({bad!r}) is not a 'key: value' line, and the file is not "
                              f"valid YAML ("), message
    assert "\n" not in message


def test_yaml_errors_are_one_line_with_the_position(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("a: 1\nb: [1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        GlobalConfiguration.load_configuration(str(tmp_path))
    assert str(raised.value) == (
        f"Could not parse configuration file {tmp_path / 'config.yaml'}: while parsing a flow "
        f"sequence at line 2, column 4: expected ',' or ']', but got '<stream end>' at line "
        f"3, column 1")


def test_yaml_1_2_core_schema(tmp_path: Path) -> None:
    _write(tmp_path, "config.yaml", """
        a: yes
        b: 0100
        c: 1:30
        d: TRUE
        e: 0x1F
        f: 2024-01-02
        g: .inf
        h: 1.5e3
        """)
    conf = GlobalConfiguration.load_configuration(str(tmp_path))
    assert conf.get_string("a") == "yes"  # YAML 1.1 would say True
    assert conf.get_integer("b") == 100  # YAML 1.1 would say 64 (octal)
    assert conf.get_string("c") == "1:30"  # YAML 1.1 would say 90 (sexagesimal)
    assert conf.get_boolean("d") is True
    assert conf.get_integer("e") == 31
    assert conf.get_string("f") == "2024-01-02"
    assert conf.get_float("g") == float("inf")
    assert conf.get_float("h") == 1500.0


def test_bad_config_files(tmp_path: Path) -> None:
    _write(tmp_path, "config.yaml", "a: 1\na: 2\n")
    with pytest.raises(ConfigurationError, match="duplicate key"):
        GlobalConfiguration.load_configuration(str(tmp_path))
    _write(tmp_path, "config.yaml", "a: [1, 2\n")
    with pytest.raises(ConfigurationError, match="Could not parse configuration file"):
        GlobalConfiguration.load_configuration(str(tmp_path))
    _write(tmp_path, "config.yaml", "- just\n- a list\n")
    with pytest.raises(ConfigurationError, match="must hold a YAML mapping"):
        GlobalConfiguration.load_configuration(str(tmp_path))
    _write(tmp_path, "config.yaml", "# only a comment\n")
    assert len(GlobalConfiguration.load_configuration(str(tmp_path))) == 0


def test_missing_conf_dir_or_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not describe an existing directory"):
        GlobalConfiguration.load_configuration(str(tmp_path / "nope"))
    with pytest.raises(ConfigurationError, match="Neither 'config.yaml' nor 'flink-conf.yaml'"):
        GlobalConfiguration.load_configuration(str(tmp_path))


def test_dynamic_properties_override_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "config.yaml", "parallelism.default: 2\nrest.port: 8082\n")
    conf = GlobalConfiguration.load_configuration(
        str(tmp_path), {"parallelism.default": "5", "pipeline.name": "wordcount"})
    assert conf.get(opts.DEFAULT_PARALLELISM) == 5
    assert conf.get(opts.REST_PORT) == 8082
    assert conf.get(opts.PIPELINE_NAME) == "wordcount"
    from_conf = GlobalConfiguration.load_configuration(
        str(tmp_path), Configuration().set_integer("rest.port", 1))
    assert from_conf.get(opts.REST_PORT) == 1


def test_flink_conf_dir_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "config.yaml", "taskmanager.numberOfTaskSlots: 6\n")
    monkeypatch.setenv("FLINK_CONF_DIR", str(tmp_path))
    assert GlobalConfiguration.load_configuration().get(opts.NUM_TASK_SLOTS) == 6
    monkeypatch.delenv("FLINK_CONF_DIR")
    conf = GlobalConfiguration.load_configuration(None, {"rest.port": "1"})
    assert conf.to_dict() == {"rest.port": "1"}
    monkeypatch.setenv("FLINK_CONF_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="does not describe an existing directory"):
        GlobalConfiguration.load_configuration()


def test_sensitive_keys() -> None:
    assert GlobalConfiguration.is_sensitive("s3.secret-key")
    assert GlobalConfiguration.is_sensitive("security.ssl.keystore-password")
    assert not GlobalConfiguration.is_sensitive("rest.port")


@pytest.mark.parametrize("key, value", [("rest.port", "-5"), ("jobmanager.rpc.port", "-5"),
                                        ("taskmanager.data.port", "65536")])
def test_a_port_outside_0_to_65535_is_refused_naming_the_key(key: str, value: str) -> None:
    option = {o.key: o for o in (opts.REST_PORT, opts.JOB_MANAGER_RPC_PORT,
                                 opts.TASK_MANAGER_DATA_PORT)}[key]
    with pytest.raises(ConfigurationError,
                       match=f"'{value}' for configuration key '{key}': expected a port in "
                             f"0..65535"):
        Configuration({key: value}).get(option)
    assert Configuration({key: "0"}).get(option) == 0
    assert Configuration({key: "65535"}).get(option) == 65535


def test_a_jobmanager_with_a_bad_port_exits_with_one_clear_line(tmp_path: Path) -> None:
    # before, the REST server's bind crashed with an OverflowError traceback
    (tmp_path / "config.yaml").write_text("rest.port: -5\n")
    done = subprocess.run(
        [sys.executable, "-m", "flink_py.runtime.entrypoint.jobmanager", "--configDir",
         str(tmp_path), "-D", "jobmanager.rpc.port=0"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert ("Could not start the JobManager: Could not parse value '-5' for configuration "
            "key 'rest.port': expected a port in 0..65535") in done.stderr, done.stderr


def test_a_typo_in_a_key_warns_with_the_closest_known_key(tmp_path: Path, caplog) -> None:
    (tmp_path / "config.yaml").write_text(
        "taskmanager.numberOfTaskSlot: 3\n"      # a typo of taskmanager.numberOfTaskSlots
        "parallelism.default: 2\n"               # known
        "env.java.opts.all: -Xmx1g\n"            # a free-form namespace
        "no.such.option: 1\n")
    with caplog.at_level(logging.WARNING):
        configuration = GlobalConfiguration.load_configuration(str(tmp_path))
    warnings = sorted(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    source = str(tmp_path / "config.yaml")
    assert warnings == [
        f"Unknown configuration key 'no.such.option' in {source} (flink_py does not use it)",
        f"Unknown configuration key 'taskmanager.numberOfTaskSlot' in {source}; did you mean "
        f"'taskmanager.numberOfTaskSlots'?"]
    assert configuration.get_string("taskmanager.numberOfTaskSlot") == "3"  # kept, as Flink


def test_the_shipped_configuration_has_no_unknown_keys(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        GlobalConfiguration.load_configuration(os.path.join(REPO, "conf"))
    assert not [r for r in caplog.records if "Unknown configuration key" in r.getMessage()]
