"""Every configuration option flink_py reads, declared once with Flink's key and default.

Keys, types and defaults are Flink's (``CoreOptions``, ``PipelineOptions``,
``ExecutionOptions``, ``JobManagerOptions``, ``RestOptions``, ``TaskManagerOptions``,
``HeartbeatManagerOptions``, ``NettyShuffleEnvironmentOptions``, ``MetricOptions``), except
where a comment says otherwise. Durations are read as integer milliseconds, memory sizes as
integer bytes.

Example::

    >>> from flink_py.common.configuration import Configuration
    >>> Configuration().set_string("execution.buffer-timeout", "5 ms").get(BUFFER_TIMEOUT)
    5
"""

from __future__ import annotations

from flink_py.common.config_option_builder import ConfigOptions
from flink_py.common.configuration import PORT_RANGE, ConfigOption, ConfigType

__all__ = [
    "ConfigOptions",
    "ALIGNED_CHECKPOINT_TIMEOUT",
    "ALL_OPTIONS",
    "AUTO_GENERATE_UIDS",
    "AUTO_WATERMARK_INTERVAL",
    "BUFFER_TIMEOUT",
    "BUFFER_TIMEOUT_ENABLED",
    "CHAIN_OPERATORS_WITH_DIFFERENT_MAX_PARALLELISM",
    "CHECKPOINTING_INTERVAL",
    "CHECKPOINTING_MODE",
    "CHECKPOINTING_TIMEOUT",
    "CHECKPOINTS_DIRECTORY",
    "CHECKPOINT_STORAGE",
    "CLOSURE_CLEANER_LEVEL",
    "DEFAULT_PARALLELISM",
    "ENABLE_UNALIGNED",
    "EXTERNALIZED_CHECKPOINT_RETENTION",
    "FAILOVER_STRATEGY",
    "FORCE_AVRO",
    "FORCE_KRYO",
    "FORCE_UNALIGNED",
    "FS_SMALL_FILE_THRESHOLD",
    "FS_WRITE_BUFFER_SIZE",
    "GENERIC_TYPES",
    "GLOBAL_JOB_PARAMETERS",
    "HEARTBEAT_INTERVAL",
    "HEARTBEAT_RPC_FAILURE_THRESHOLD",
    "HEARTBEAT_TIMEOUT",
    "INCREMENTAL_CHECKPOINTS",
    "JOBMANAGER_STORAGE_MAX_STATE_SIZE",
    "JOB_MANAGER_BIND_HOST",
    "JOB_MANAGER_RPC_ADDRESS",
    "JOB_MANAGER_RPC_PORT",
    "KRYO_DEFAULT_SERIALIZERS",
    "KRYO_REGISTERED_CLASSES",
    "LATENCY_INTERVAL",
    "MAX_CONCURRENT_CHECKPOINTS",
    "MAX_PARALLELISM",
    "MAX_RETAINED_CHECKPOINTS",
    "MIN_PAUSE_BETWEEN_CHECKPOINTS",
    "NETWORK_BUFFERS_PER_CHANNEL",
    "NETWORK_EXTRA_BUFFERS_PER_GATE",
    "NETWORK_LOCAL_HANDOFF",
    "NETWORK_RECORDS_PER_BUFFER",
    "NUM_TASK_SLOTS",
    "OBJECT_REUSE",
    "OPERATOR_CHAINING",
    "PIPELINE_CLASSPATHS",
    "PIPELINE_JARS",
    "PIPELINE_NAME",
    "POJO_REGISTERED_CLASSES",
    "PYTHON_ARCHIVES",
    "PYTHON_EXECUTABLE",
    "PYTHON_FILES",
    "PYTHON_OPERATOR_CHAINING",
    "PYTHON_REQUIREMENTS",
    "RESTART_EXPONENTIAL_ATTEMPTS",
    "RESTART_EXPONENTIAL_INITIAL_BACKOFF",
    "RESTART_EXPONENTIAL_JITTER",
    "RESTART_EXPONENTIAL_MAX_BACKOFF",
    "RESTART_EXPONENTIAL_MULTIPLIER",
    "RESTART_EXPONENTIAL_RESET_THRESHOLD",
    "RESTART_FAILURE_RATE_DELAY",
    "RESTART_FAILURE_RATE_INTERVAL",
    "RESTART_FAILURE_RATE_MAX_FAILURES",
    "RESTART_FIXED_DELAY_ATTEMPTS",
    "RESTART_FIXED_DELAY_DELAY",
    "RESTART_STRATEGY",
    "REST_ADDRESS",
    "REST_AUTHENTICATION_ENABLED",
    "REST_AUTHENTICATION_TOKEN",
    "REST_BIND_ADDRESS",
    "REST_BIND_PORT",
    "REST_CORS_ALLOWED_ORIGINS",
    "REST_PORT",
    "REST_SERVER_MAX_CONTENT_LENGTH",
    "REST_SERVER_MAX_UPLOAD_BYTES_IN_FLIGHT",
    "ROCKSDB_CHECKPOINT_TRANSFER_THREAD_NUM",
    "ROCKSDB_LOCAL_DIRECTORIES",
    "ROCKSDB_OPTIONS_FACTORY",
    "ROCKSDB_PREDEFINED_OPTIONS",
    "RUNTIME_MODE",
    "SAVEPOINT_DIRECTORY",
    "SAVEPOINT_IGNORE_UNCLAIMED_STATE",
    "SAVEPOINT_PATH",
    "SECURITY_CLUSTER_SECRET",
    "SECURITY_CLUSTER_SECRET_FILE",
    "SECURITY_INTERNAL_AUTHENTICATION_ENABLED",
    "SLOT_REQUEST_TIMEOUT",
    "SNAPSHOT_COMPRESSION",
    "SSL_INTERNAL_CA",
    "SSL_INTERNAL_CERT",
    "SSL_INTERNAL_ENABLED",
    "SSL_INTERNAL_KEY",
    "SSL_REST_CA",
    "SSL_REST_CERT",
    "SSL_REST_ENABLED",
    "SSL_REST_KEY",
    "STATE_BACKEND",
    "STATE_CHANGELOG_ENABLED",
    "TASK_CANCELLATION_INTERVAL",
    "TASK_CANCELLATION_TIMEOUT",
    "TASK_MANAGER_BIND_HOST",
    "TASK_MANAGER_DATA_PORT",
    "TASK_MANAGER_HOST",
    "TASK_MANAGER_RPC_PORT",
    "TIME_CHARACTERISTIC",
    "TOLERABLE_FAILED_CHECKPOINTS",
    "option_for_key",
]

# ------------------------------------------------------------------------------ core / pipeline

DEFAULT_PARALLELISM = ConfigOption(
    "parallelism.default", ConfigType.INT, 1,
    "Default parallelism for jobs.",
)

MAX_PARALLELISM = ConfigOption(
    "pipeline.max-parallelism", ConfigType.INT, -1,
    "The program-wide maximum parallelism used for operators which haven't specified one; "
    "-1 means derived from the parallelism. It is the number of key groups of keyed state "
    "and must be at most 32768.",
)

PIPELINE_JARS = ConfigOption(
    # accepted so that PyFlink programs and configurations run; a Python runtime loads no jars
    "pipeline.jars", ConfigType.LIST, None,
    "Jar files for the job's classpath. flink_py runs no JVM: the jars are ignored "
    "(env.add_jars warns).",
)

PIPELINE_CLASSPATHS = ConfigOption(
    "pipeline.classpaths", ConfigType.LIST, None,
    "URLs added to the job's classpath. flink_py runs no JVM: they are ignored "
    "(env.add_classpaths warns).",
)

PIPELINE_NAME = ConfigOption(
    "pipeline.name", ConfigType.STRING, None,
    "The job name used for printing and logging.",
)

AUTO_WATERMARK_INTERVAL = ConfigOption(
    "pipeline.auto-watermark-interval", ConfigType.DURATION, 200,
    "The interval of the automatic watermark emission; 0 disables periodic watermarks.",
)

TIME_CHARACTERISTIC = ConfigOption(
    # Flink 1.x's StreamPipelineOptions (removed in 2.0): read by the deprecated
    # env.get_stream_time_characteristic only
    "pipeline.time-characteristic", ConfigType.ENUM, "EventTime",
    "Flink 1.x's time characteristic of the job (deprecated since 1.12; has no effect but "
    "on the watermark interval set with it).",
    choices=("ProcessingTime", "IngestionTime", "EventTime"),
)

OPERATOR_CHAINING = ConfigOption(
    "pipeline.operator-chaining.enabled", ConfigType.BOOLEAN, True,
    "Operator chaining allows non-shuffle operations to be co-located in the same thread, "
    "avoiding serialization and de-serialization.",
    deprecated_keys=("pipeline.operator-chaining",),
)

CHAIN_OPERATORS_WITH_DIFFERENT_MAX_PARALLELISM = ConfigOption(
    "pipeline.operator-chaining.chain-operators-with-different-max-parallelism",
    ConfigType.BOOLEAN, True,
    "Whether operators of different max parallelism may be chained (when false, they are "
    "not; Flink's default is true).",
)

STATE_CHANGELOG_ENABLED = ConfigOption(
    "state.changelog.enabled", ConfigType.BOOLEAN, None,
    "Whether to enable the state changelog (FLIP-158). flink_py accepts the setting and has "
    "no changelog: its checkpoints are full or incremental as configured.",
)

PYTHON_OPERATOR_CHAINING = ConfigOption(
    # PyFlink's PythonOptions key: with it, consecutive Python operators run as one Python
    # function (records pass as objects); without it every Python operator is its own and
    # records between them go through their declared type's serializer.
    "python.operator-chaining.enabled", ConfigType.BOOLEAN, True,
    "Python operator chaining allows non-shuffle operations to be co-located in the same "
    "thread fully within Python.",
)

# PyFlink's PythonOptions for a job's Python dependencies: shipped with the job as user
# artifacts and prepared on every TaskManager (flink_py.runtime.taskmanager.python_environment)
PYTHON_FILES = ConfigOption(
    "python.files", ConfigType.STRING, None,
    "Python files, zip archives or directories (comma-separated) put on the sys.path of the "
    "job's tasks; the first entry wins over the later ones.",
)

PYTHON_REQUIREMENTS = ConfigOption(
    "python.requirements", ConfigType.STRING, None,
    "A requirements.txt installed with pip for the job's tasks, optionally followed by '#' "
    "and a directory of the packages to install from without an index.",
)

PYTHON_ARCHIVES = ConfigOption(
    "python.archives", ConfigType.STRING, None,
    "Archives (comma-separated, each optionally '#target-dir') extracted into the working "
    "directory of the job's tasks.",
)

PYTHON_EXECUTION_MODE = ConfigOption(
    # PyFlink's key (its default is "process"). Unset here: a local job at parallelism > 1
    # runs in slot worker processes, one at parallelism 1 or under a debugger in this process.
    "python.execution-mode", ConfigType.ENUM, None,
    "Where a local job's Python functions run: 'process' (slot worker processes, as on a "
    "cluster: a parallel job uses several cores) or 'thread' (threads of the program's own "
    "process: breakpoints work, and functions share the program's objects). Unset: "
    "'process' when the job's parallelism is above 1 and no debugger is active, else "
    "'thread'. A job on a cluster always runs in its TaskManagers' slot processes.",
    choices=("process", "thread"),
)

PYTHON_EXECUTABLE = ConfigOption(
    # accepted and recorded; flink_py's tasks run in the TaskManagers' own Python
    "python.executable", ConfigType.STRING, "python",
    "The Python interpreter of the job's tasks. flink_py runs them in the TaskManager's "
    "Python and warns when this names another one.",
)

OBJECT_REUSE = ConfigOption(
    "pipeline.object-reuse", ConfigType.BOOLEAN, False,
    "When enabled, records passed between chained operators are not copied.",
)

GLOBAL_JOB_PARAMETERS = ConfigOption(
    "pipeline.global-job-parameters", ConfigType.MAP, None,
    "A custom user configuration (string map) that operators can read.",
)

CLOSURE_CLEANER_LEVEL = ConfigOption(
    "pipeline.closure-cleaner-level", ConfigType.ENUM, "RECURSIVE",
    "Configures the mode in which the closure cleaner works (JVM only; no effect in "
    "flink_py).",
    choices=("NONE", "TOP_LEVEL", "RECURSIVE"),
)

AUTO_GENERATE_UIDS = ConfigOption(
    "pipeline.auto-generate-uids", ConfigType.BOOLEAN, True,
    "When disabled, every operator must be given a uid.",
)

GENERIC_TYPES = ConfigOption(
    "pipeline.generic-types", ConfigType.BOOLEAN, True,
    "Whether types that would go through Kryo are allowed (JVM only; no effect in flink_py).",
)

FORCE_KRYO = ConfigOption(
    "pipeline.force-kryo", ConfigType.BOOLEAN, False,
    "Forces Kryo for POJOs (JVM only; no effect in flink_py).",
)

FORCE_AVRO = ConfigOption(
    "pipeline.force-avro", ConfigType.BOOLEAN, False,
    "Forces Avro for POJOs (JVM only; no effect in flink_py).",
)

KRYO_DEFAULT_SERIALIZERS = ConfigOption(
    "pipeline.default-kryo-serializers", ConfigType.LIST, None,
    "Pairs of class and Kryo serializer class names (JVM only; no effect in flink_py).",
)

KRYO_REGISTERED_CLASSES = ConfigOption(
    "pipeline.registered-kryo-types", ConfigType.LIST, None,
    "Types registered with Kryo (JVM only; no effect in flink_py).",
)

POJO_REGISTERED_CLASSES = ConfigOption(
    "pipeline.registered-pojo-types", ConfigType.LIST, None,
    "Types registered as POJOs (JVM only; no effect in flink_py).",
)

# ------------------------------------------------------------------------------ execution

RUNTIME_MODE = ConfigOption(
    "execution.runtime-mode", ConfigType.ENUM, "STREAMING",
    "Runtime execution mode of DataStream programs.",
    choices=("STREAMING", "BATCH", "AUTOMATIC"),
)

BUFFER_TIMEOUT = ConfigOption(
    # Flink 2's key; Flink 1.x used "execution.buffer-timeout", still accepted.
    "execution.buffer-timeout.interval", ConfigType.DURATION, 100,
    "The maximum time between flushes of the output buffers: a positive value flushes "
    "periodically, 0 flushes after every record.",
    deprecated_keys=("execution.buffer-timeout",),
)

BUFFER_TIMEOUT_ENABLED = ConfigOption(
    "execution.buffer-timeout.enabled", ConfigType.BOOLEAN, True,
    "If false, output buffers are flushed only when full; the buffer timeout has no effect.",
)

SNAPSHOT_COMPRESSION = ConfigOption(
    "execution.checkpointing.snapshot-compression", ConfigType.BOOLEAN, False,
    "Whether to compress state snapshot data.",
)

# ------------------------------------------------------------------------------ cluster

NUM_TASK_SLOTS = ConfigOption(
    "taskmanager.numberOfTaskSlots", ConfigType.INT, 1,
    "The number of parallel operator or user function instances a TaskManager can run.",
)

JOB_MANAGER_RPC_ADDRESS = ConfigOption(
    # Flink declares no default; its shipped config.yaml sets localhost, which we default to.
    "jobmanager.rpc.address", ConfigType.STRING, "localhost",
    "The address the JobManager is reachable at.",
)

JOB_MANAGER_RPC_PORT = ConfigOption(
    "jobmanager.rpc.port", ConfigType.INT, 6123,
    "The port the JobManager is reachable at.",
    value_range=PORT_RANGE,
)

REST_ADDRESS = ConfigOption(
    # Flink declares no default and falls back to jobmanager.rpc.address; so do we, and then
    # to localhost as the shipped config.yaml sets.
    "rest.address", ConfigType.STRING, "localhost",
    "The address clients use to connect to the REST server.",
    fallback_keys=("jobmanager.rpc.address",),
)

REST_PORT = ConfigOption(
    "rest.port", ConfigType.INT, 8081,
    "The port clients connect to, and the REST server binds to if rest.bind-port is unset.",
    value_range=PORT_RANGE,
)

REST_BIND_ADDRESS = ConfigOption(
    "rest.bind-address", ConfigType.STRING, "localhost",
    "The address the REST server binds to (every address the name resolves to); default "
    "localhost: other machines reach the REST API only once this is set.",
)

REST_BIND_PORT = ConfigOption(
    "rest.bind-port", ConfigType.STRING, None,
    "The port or port range (e.g. '50100-50200') the REST server binds to; falls back to "
    "rest.port.",
    fallback_keys=("rest.port",),
)

TASK_MANAGER_HOST = ConfigOption(
    "taskmanager.host", ConfigType.STRING, None,
    "The external address of the TaskManager.",
)

TASK_MANAGER_BIND_HOST = ConfigOption(
    "taskmanager.bind-host", ConfigType.STRING, "localhost",
    "The local address the TaskManager's slot workers bind their RPC and data endpoints to "
    "(loopback by default: another address opens them to other machines).",
)

TASK_MANAGER_RPC_PORT = ConfigOption(
    "taskmanager.rpc.port", ConfigType.STRING, "0",
    "The port (or '0' for any) of the TaskManager's RPC endpoints.",
)

TASK_MANAGER_DATA_PORT = ConfigOption(
    "taskmanager.data.port", ConfigType.INT, 0,
    "The port of the TaskManager's data exchange server (0: any free port).",
    value_range=PORT_RANGE,
)

JOB_MANAGER_BIND_HOST = ConfigOption(
    "jobmanager.bind-host", ConfigType.STRING, "localhost",
    "The local address the JobManager's RPC endpoint binds to (loopback by default: another "
    "address opens it to other machines).",
)

# ------------------------------------------------------------------------------ security
# flink_py's own keys, except the security.ssl.* names, which follow Flink's where Flink has
# one (PEM files instead of Java keystores: .cert/.key/.ca for .keystore/.truststore).

SECURITY_CLUSTER_SECRET = ConfigOption(
    "security.cluster-secret", ConfigType.STRING, None,
    "The secret shared by the JobManager, TaskManagers and slot workers of one cluster; "
    "every internal call and data connection proves it knows it (HMAC-SHA256). Prefer "
    "security.cluster-secret.file, which keeps it out of the configuration file.",
)

SECURITY_CLUSTER_SECRET_FILE = ConfigOption(
    "security.cluster-secret.file", ConfigType.STRING, None,
    "A file (mode 0600) holding the cluster secret; default: .cluster-secret in the "
    "configuration directory, which bin/start-cluster.sh creates when no secret is "
    "configured.",
)

SECURITY_INTERNAL_AUTHENTICATION_ENABLED = ConfigOption(
    "security.internal.authentication.enabled", ConfigType.BOOLEAN, True,
    "Whether internal traffic (RPC and data exchange) must prove the cluster secret. "
    "Setting false opens the cluster to anyone who reaches its ports, unless "
    "security.ssl.internal.enabled; it is refused for non-loopback addresses without TLS.",
)

SSL_INTERNAL_ENABLED = ConfigOption(
    "security.ssl.internal.enabled", ConfigType.BOOLEAN, False,
    "Mutual TLS for internal traffic (RPC and data exchange), with the PEM files of "
    "security.ssl.internal.cert, .key and .ca.",
)

SSL_INTERNAL_CERT = ConfigOption(
    "security.ssl.internal.cert", ConfigType.STRING, None,
    "The PEM certificate (chain) this process presents on internal connections.",
)

SSL_INTERNAL_KEY = ConfigOption(
    "security.ssl.internal.key", ConfigType.STRING, None,
    "The PEM private key of security.ssl.internal.cert.",
)

SSL_INTERNAL_CA = ConfigOption(
    "security.ssl.internal.ca", ConfigType.STRING, None,
    "The PEM CA certificate(s) that internal peers' certificates must be signed by.",
)

SSL_REST_ENABLED = ConfigOption(
    "security.ssl.rest.enabled", ConfigType.BOOLEAN, False,
    "TLS (HTTPS) for the REST endpoint, with security.ssl.rest.cert and .key; clients "
    "verify it against security.ssl.rest.ca.",
)

SSL_REST_CERT = ConfigOption(
    "security.ssl.rest.cert", ConfigType.STRING, None,
    "The PEM certificate (chain) of the REST endpoint.",
)

SSL_REST_KEY = ConfigOption(
    "security.ssl.rest.key", ConfigType.STRING, None,
    "The PEM private key of security.ssl.rest.cert.",
)

SSL_REST_CA = ConfigOption(
    "security.ssl.rest.ca", ConfigType.STRING, None,
    "The PEM CA certificate(s) REST clients verify the endpoint's certificate with.",
)

REST_AUTHENTICATION_ENABLED = ConfigOption(
    "rest.authentication.enabled", ConfigType.BOOLEAN, True,
    "Whether submitting, cancelling, stopping and savepointing over REST need a bearer "
    "token. Setting false opens them to anyone who reaches rest.port (a warning is logged); "
    "it is refused for a non-loopback rest.bind-address.",
)

REST_AUTHENTICATION_TOKEN = ConfigOption(
    "rest.authentication.token", ConfigType.STRING, None,
    "The bearer token REST write requests must carry; default: one derived from the "
    "cluster secret (the flink CLI derives the same one from the configuration).",
)

REST_CORS_ALLOWED_ORIGINS = ConfigOption(
    "rest.cors.allowed-origins", ConfigType.LIST, [],
    "Origins (scheme://host:port) whose web pages may call the REST API from a browser; "
    "empty: none (no Access-Control-Allow-Origin header is sent).",
)

REST_SERVER_MAX_CONTENT_LENGTH = ConfigOption(
    "rest.server.max-content-length", ConfigType.INT, 104_857_600,
    "The largest request body the REST server accepts, in bytes.",
    value_range=(1, 2**31 - 1),
)

REST_SERVER_MAX_UPLOAD_BYTES_IN_FLIGHT = ConfigOption(
    "rest.server.max-upload-bytes-in-flight", ConfigType.MEMORY_SIZE, 209_715_200,
    "The total size of the request bodies the REST server reads at once (e.g. '200 mb'); a "
    "request that would pass it is answered 503 at once instead of being read.",
)

SLOT_REQUEST_TIMEOUT = ConfigOption(
    "slot.request.timeout", ConfigType.DURATION, 300_000,
    "How long a job waits for the slots it needs before it fails.",
)

HEARTBEAT_INTERVAL = ConfigOption(
    "heartbeat.interval", ConfigType.DURATION, 10_000,
    "Time interval between heartbeat requests from the sender to the receiver side.",
)

HEARTBEAT_TIMEOUT = ConfigOption(
    "heartbeat.timeout", ConfigType.DURATION, 50_000,
    "Timeout for requesting and receiving heartbeats for both sender and receiver sides.",
)

HEARTBEAT_RPC_FAILURE_THRESHOLD = ConfigOption(
    "heartbeat.rpc-failure-threshold", ConfigType.INT, 2,
    "The number of consecutive failed heartbeat RPCs until a heartbeat target is marked as "
    "unreachable. Failed heartbeat RPCs can be used to detect dead targets faster because "
    "they no longer receive the RPCs. The detection time is heartbeat.interval * "
    "heartbeat.rpc-failure-threshold. In environments with a flaky network, setting this "
    "value too low can produce false positives. In this case, we recommend to increase this "
    "value, but not higher than heartbeat.timeout / heartbeat.interval. The mechanism can be "
    "disabled by setting this option to -1",
)

TASK_CANCELLATION_INTERVAL = ConfigOption(
    "task.cancellation.interval", ConfigType.DURATION, 30_000,
    "Time interval between two successive task cancellation attempts.",
)

TASK_CANCELLATION_TIMEOUT = ConfigOption(
    "task.cancellation.timeout", ConfigType.DURATION, 180_000,
    "Timeout after which a task cancellation times out and leads to a fatal TaskManager "
    "error; 0 deactivates it.",
)

LATENCY_INTERVAL = ConfigOption(
    "metrics.latency.interval", ConfigType.DURATION, 0,
    "The interval at which sources emit latency markers; 0 or less disables them.",
)

# ------------------------------------------------------------------------------ network

NETWORK_BUFFERS_PER_CHANNEL = ConfigOption(
    "taskmanager.network.memory.buffers-per-channel", ConfigType.INT, 2,
    "Number of exclusive network buffers for each outgoing/incoming channel in the "
    "credit-based flow control model.",
)

NETWORK_EXTRA_BUFFERS_PER_GATE = ConfigOption(
    "taskmanager.network.memory.floating-buffers-per-gate", ConfigType.INT, 8,
    "Number of extra (floating) network buffers shared by the channels of a gate.",
)

NETWORK_LOCAL_HANDOFF = ConfigOption(
    # flink_py only: Python threads share the GIL, so a thread switch per buffer only costs.
    "taskmanager.network.local-handoff", ConfigType.BOOLEAN, True,
    "Whether a task hands a buffer to an idle consumer task in the same process by running "
    "the consumer on its own thread. Off, every task keeps to its own thread, which overlaps "
    "better when operators wait on I/O.",
)

NETWORK_RECORDS_PER_BUFFER = ConfigOption(
    # flink_py only: our network buffers are record lists, not 32 KiB memory segments.
    "taskmanager.network.records-per-buffer", ConfigType.INT, 1024,
    "Records per network buffer (flink_py: buffers hold records, not bytes).",
)

# ------------------------------------------------------------------- checkpoints and state
# Flink 2.x's CheckpointingOptions, StateBackendOptions, SavepointConfigOptions: the 1.x keys
# (state.checkpoints.dir, ...) are read as deprecated keys.

CHECKPOINTING_INTERVAL = ConfigOption(
    "execution.checkpointing.interval", ConfigType.DURATION, None,
    "Interval between periodic checkpoints; unset, checkpointing is off.",
)

CHECKPOINTING_MODE = ConfigOption(
    "execution.checkpointing.mode", ConfigType.ENUM, "EXACTLY_ONCE",
    "EXACTLY_ONCE aligns barriers; AT_LEAST_ONCE does not.",
    choices=("EXACTLY_ONCE", "AT_LEAST_ONCE"),
)

CHECKPOINTING_TIMEOUT = ConfigOption(
    "execution.checkpointing.timeout", ConfigType.DURATION, 600_000,
    "A checkpoint not complete after this long is aborted.",
)

MIN_PAUSE_BETWEEN_CHECKPOINTS = ConfigOption(
    "execution.checkpointing.min-pause", ConfigType.DURATION, 0,
    "The minimal pause between the end of one checkpoint and the start of the next.",
)

MAX_CONCURRENT_CHECKPOINTS = ConfigOption(
    "execution.checkpointing.max-concurrent-checkpoints", ConfigType.INT, 1,
    "How many checkpoints may be in progress at the same time.",
)

TOLERABLE_FAILED_CHECKPOINTS = ConfigOption(
    "execution.checkpointing.tolerable-failed-checkpoints", ConfigType.INT, 0,
    "How many consecutive checkpoint failures are tolerated before the job fails.",
)

ENABLE_UNALIGNED = ConfigOption(
    "execution.checkpointing.unaligned.enabled", ConfigType.BOOLEAN, False,
    "Unaligned checkpoints: barriers overtake in-flight data, which is snapshotted.",
    ("execution.checkpointing.unaligned",),
)

EXTERNALIZED_CHECKPOINT_RETENTION = ConfigOption(
    "execution.checkpointing.externalized-checkpoint-retention", ConfigType.ENUM,
    "NO_EXTERNALIZED_CHECKPOINTS",
    "Whether completed checkpoints are kept when the job is cancelled.",
    choices=("DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION",
             "NO_EXTERNALIZED_CHECKPOINTS"),
)

MAX_RETAINED_CHECKPOINTS = ConfigOption(
    "execution.checkpointing.num-retained", ConfigType.INT, 1,
    "The number of completed checkpoints kept.",
    ("state.checkpoints.num-retained",),
)

CHECKPOINT_STORAGE = ConfigOption(
    "execution.checkpointing.storage", ConfigType.STRING, None,
    "jobmanager (in memory) or filesystem; unset: filesystem when a checkpoint directory "
    "is configured, else jobmanager.",
    ("state.checkpoint-storage",),
)

CHECKPOINTS_DIRECTORY = ConfigOption(
    "execution.checkpointing.dir", ConfigType.STRING, None,
    "The directory checkpoints are written to (<dir>/<job-id>/chk-<n>/).",
    ("state.checkpoints.dir",),
)

SAVEPOINT_DIRECTORY = ConfigOption(
    "execution.checkpointing.savepoint-dir", ConfigType.STRING, None,
    "The default directory of savepoints.",
    ("state.savepoints.dir",),
)

INCREMENTAL_CHECKPOINTS = ConfigOption(
    "execution.checkpointing.incremental", ConfigType.BOOLEAN, False,
    "Whether state backends that can (rocksdb) take incremental checkpoints.",
    ("state.backend.incremental",),
)

FS_SMALL_FILE_THRESHOLD = ConfigOption(
    "execution.checkpointing.data-inline-threshold", ConfigType.MEMORY_SIZE, 20 * 1024,
    "State smaller than this is kept inline in the checkpoint's metadata, not in a file.",
    ("state.storage.fs.memory-threshold",),
)

ALIGNED_CHECKPOINT_TIMEOUT = ConfigOption(
    "execution.checkpointing.aligned-checkpoint-timeout", ConfigType.DURATION, 0,
    "With unaligned checkpoints on: how long a checkpoint starts aligned before it switches "
    "to unaligned; 0 starts unaligned at once.",
    ("execution.checkpointing.alignment-timeout",),
)

FORCE_UNALIGNED = ConfigOption(
    "execution.checkpointing.unaligned.forced", ConfigType.BOOLEAN, False,
    "Forces unaligned checkpoints even where they are otherwise not possible (custom "
    "partitioners).",
)

FS_WRITE_BUFFER_SIZE = ConfigOption(
    "execution.checkpointing.write-buffer-size", ConfigType.INT, 4096,
    "The write buffer size (bytes) of the file streams checkpoints are written to.",
    ("state.storage.fs.write-buffer-size",),
)

JOBMANAGER_STORAGE_MAX_STATE_SIZE = ConfigOption(
    # flink_py only: Flink takes this only as a JobManagerCheckpointStorage constructor
    # argument; a key carries it to the JobMaster with the job's configuration.
    "execution.checkpointing.jobmanager-storage.max-state-size", ConfigType.MEMORY_SIZE,
    5 * 1024 * 1024,
    "The largest state a subtask may checkpoint to the jobmanager checkpoint storage.",
)

STATE_BACKEND = ConfigOption(
    "state.backend.type", ConfigType.STRING, "hashmap",
    "The state backend: hashmap (objects in memory) or rocksdb.",
    ("state.backend",),
)

ROCKSDB_LOCAL_DIRECTORIES = ConfigOption(
    "state.backend.rocksdb.localdir", ConfigType.STRING, None,
    "Where RocksDB keeps its files (default: the TaskManager's temporary directory).",
)

ROCKSDB_PREDEFINED_OPTIONS = ConfigOption(
    "state.backend.rocksdb.predefined-options", ConfigType.ENUM, "DEFAULT",
    "A predefined set of RocksDB tuning options.",
    choices=("DEFAULT", "SPINNING_DISK_OPTIMIZED", "SPINNING_DISK_OPTIMIZED_HIGH_MEM",
             "FLASH_SSD_OPTIMIZED"),
)

ROCKSDB_CHECKPOINT_TRANSFER_THREAD_NUM = ConfigOption(
    "state.backend.rocksdb.checkpoint.transfer.thread.num", ConfigType.INT, 4,
    "The number of threads that upload and download RocksDB files of checkpoints.",
)

ROCKSDB_OPTIONS_FACTORY = ConfigOption(
    "state.backend.rocksdb.options-factory", ConfigType.STRING, None,
    "The RocksDB options factory (a Java class name in Flink: stored, unused by flink_py).",
)

SAVEPOINT_PATH = ConfigOption(
    "execution.savepoint.path", ConfigType.STRING, None,
    "The savepoint (or retained checkpoint) a job starts from.",
)

SAVEPOINT_IGNORE_UNCLAIMED_STATE = ConfigOption(
    "execution.savepoint.ignore-unclaimed-state", ConfigType.BOOLEAN, False,
    "Whether a restore may skip savepoint state that maps to no operator of the job.",
)

# ---------------------------------------------------------------------- restart strategies

RESTART_STRATEGY = ConfigOption(
    "restart-strategy.type", ConfigType.STRING, None,
    "none (off, disable), fixed-delay (fixeddelay), failure-rate (failurerate) or "
    "exponential-delay (exponentialdelay); unset: exponential-delay with checkpointing on, "
    "none without.",
    ("restart-strategy",),
)

RESTART_FIXED_DELAY_ATTEMPTS = ConfigOption(
    "restart-strategy.fixed-delay.attempts", ConfigType.INT, 1,
    "How many restarts fixed-delay makes before the job fails.",
)

RESTART_FIXED_DELAY_DELAY = ConfigOption(
    "restart-strategy.fixed-delay.delay", ConfigType.DURATION, 1_000,
    "The delay between two restarts of fixed-delay.",
)

RESTART_FAILURE_RATE_MAX_FAILURES = ConfigOption(
    "restart-strategy.failure-rate.max-failures-per-interval", ConfigType.INT, 1,
    "How many failures failure-rate accepts within the interval before the job fails.",
)

RESTART_FAILURE_RATE_INTERVAL = ConfigOption(
    "restart-strategy.failure-rate.failure-rate-interval", ConfigType.DURATION, 60_000,
    "The interval failure-rate counts failures over.",
)

RESTART_FAILURE_RATE_DELAY = ConfigOption(
    "restart-strategy.failure-rate.delay", ConfigType.DURATION, 1_000,
    "The delay between two restarts of failure-rate.",
)

RESTART_EXPONENTIAL_INITIAL_BACKOFF = ConfigOption(
    "restart-strategy.exponential-delay.initial-backoff", ConfigType.DURATION, 1_000,
    "The first restart delay of exponential-delay.",
)

RESTART_EXPONENTIAL_MAX_BACKOFF = ConfigOption(
    "restart-strategy.exponential-delay.max-backoff", ConfigType.DURATION, 60_000,
    "The largest restart delay of exponential-delay.",
)

RESTART_EXPONENTIAL_MULTIPLIER = ConfigOption(
    "restart-strategy.exponential-delay.backoff-multiplier", ConfigType.DOUBLE, 1.5,
    "The factor the delay grows by after each restart.",
)

RESTART_EXPONENTIAL_RESET_THRESHOLD = ConfigOption(
    "restart-strategy.exponential-delay.reset-backoff-threshold", ConfigType.DURATION,
    3_600_000,
    "After this long without failure the delay returns to the initial backoff.",
)

RESTART_EXPONENTIAL_JITTER = ConfigOption(
    "restart-strategy.exponential-delay.jitter-factor", ConfigType.DOUBLE, 0.1,
    "Random jitter of each delay, as a fraction of it.",
)

RESTART_EXPONENTIAL_ATTEMPTS = ConfigOption(
    "restart-strategy.exponential-delay.attempts-before-reset-backoff", ConfigType.INT,
    2 ** 31 - 1,
    "How many restarts exponential-delay makes before the job fails.",
)

FAILOVER_STRATEGY = ConfigOption(
    "jobmanager.execution.failover-strategy", ConfigType.ENUM, "region",
    "full restarts every task of the job; region only the failed task's pipelined region.",
    choices=("full", "region"),
)

#: Every option declared in this module.
ALL_OPTIONS: tuple[ConfigOption, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, ConfigOption)
)

_BY_KEY = {option.key: option for option in ALL_OPTIONS}
_BY_KEY.update(
    {old: option for option in ALL_OPTIONS for old in option.deprecated_keys}
)


def option_for_key(key: str) -> ConfigOption | None:
    """The declared option with ``key`` as its key or a deprecated key, else ``None``.

    >>> option_for_key("execution.buffer-timeout") is BUFFER_TIMEOUT
    True
    """
    return _BY_KEY.get(key)
