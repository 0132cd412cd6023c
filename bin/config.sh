#!/usr/bin/env bash
# The variables this file sets are used by the scripts that source it.
# shellcheck shell=bash disable=SC2034
################################################################################
# flink_py's bin/config.sh, after Apache Flink's: sourced by the other scripts in bin/.
#
# Defines the installation's paths (FLINK_HOME, FLINK_BIN_DIR, FLINK_CONF_DIR, FLINK_LOG_DIR,
# FLINK_PID_DIR), the Python that runs flink_py (FLINK_PYTHON), the values the scripts take
# from the configuration (env.*, high-availability.type) and the helpers that read
# conf/masters and conf/workers. Environment variables that are already set win over the
# configuration file, as in Flink.
################################################################################

# ---------------------------------------------------------------------------------------
#  Defaults, used when neither the environment nor the configuration file sets a value.
# ---------------------------------------------------------------------------------------

DEFAULT_ENV_PID_DIR="/tmp"      # where the *.pid files go (env.pid.dir)
DEFAULT_ENV_LOG_MAX=5           # old log files kept per daemon (env.log.max)
DEFAULT_ENV_SSH_OPTS=""         # extra ssh options for remote hosts (env.ssh.opts)
DEFAULT_FLINK_PYTHON="python3"  # the Python that runs flink_py, unless FLINK_PYTHON is set

KEY_ENV_PID_DIR="env.pid.dir"
KEY_ENV_LOG_DIR="env.log.dir"
KEY_ENV_LOG_MAX="env.log.max"
KEY_ENV_SSH_OPTS="env.ssh.opts"
KEY_HIGH_AVAILABILITY="high-availability.type"
# Older names of high-availability.type, still read as Flink does.
KEY_HIGH_AVAILABILITY_DEPRECATED="high-availability"
KEY_RECOVERY_MODE_DEPRECATED="recovery.mode"

IS_NUMBER="^[0-9]+$"

# ---------------------------------------------------------------------------------------
#  Paths
# ---------------------------------------------------------------------------------------

# This file lives in bin/; resolve symlinks so that a linked bin/ still finds its conf/.
_flink_config_sh="${BASH_SOURCE[0]}"
_flink_iteration=0
while [ -L "$_flink_config_sh" ]; do
    if [ "$_flink_iteration" -gt 100 ]; then
        echo "Cannot resolve path: You have a cyclic symlink in $_flink_config_sh." >&2
        break
    fi
    _flink_link=$(readlink -- "$_flink_config_sh")
    case "$_flink_link" in
        /*) _flink_config_sh="$_flink_link" ;;
        *) _flink_config_sh="$(dirname -- "$_flink_config_sh")/$_flink_link" ;;
    esac
    _flink_iteration=$((_flink_iteration + 1))
done

FLINK_BIN_DIR=$(cd -- "$(dirname -- "$_flink_config_sh")" && pwd -P)
# The installation root: the parent of bin/ (the repository root in a source checkout).
FLINK_HOME=$(dirname -- "$FLINK_BIN_DIR")
unset _flink_config_sh _flink_iteration _flink_link

if [ -z "${FLINK_CONF_DIR:-}" ]; then
    FLINK_CONF_DIR="$FLINK_HOME/conf"
elif [ -d "$FLINK_CONF_DIR" ]; then
    # Absolute, so that daemons and the scripts they call agree on it wherever they run.
    FLINK_CONF_DIR=$(cd -- "$FLINK_CONF_DIR" && pwd)
fi
DEFAULT_FLINK_LOG_DIR="$FLINK_HOME/log"

if [ -z "${HOSTNAME:-}" ]; then
    HOSTNAME=$(hostname)
fi

# Who the pid and log files belong to (Flink's FLINK_IDENT_STRING, default the user name).
if [ -z "${FLINK_IDENT_STRING:-}" ]; then
    FLINK_IDENT_STRING="${USER:-$(id -un)}"
fi

# ---------------------------------------------------------------------------------------
#  Python
# ---------------------------------------------------------------------------------------

if [ -z "${FLINK_PYTHON:-}" ]; then
    FLINK_PYTHON="$DEFAULT_FLINK_PYTHON"
fi

if ! command -v "$FLINK_PYTHON" > /dev/null 2>&1; then
    echo "Cannot find the Python '$FLINK_PYTHON' to run flink_py with." >&2
    echo "Install Python 3.11 or later, or set FLINK_PYTHON to one (export FLINK_PYTHON=/path/to/python3)." >&2
    exit 1
fi

# As Flink puts its own lib/ on the classpath, the scripts run the flink_py of their own
# installation when it has one (a source checkout), before any other installed copy.
if [ -f "$FLINK_HOME/flink_py/__init__.py" ]; then
    case ":${PYTHONPATH:-}:" in
        (*":$FLINK_HOME:"*) ;;
        (*) export PYTHONPATH="$FLINK_HOME${PYTHONPATH:+:$PYTHONPATH}" ;;
    esac
fi

export FLINK_HOME FLINK_CONF_DIR FLINK_PYTHON

# ---------------------------------------------------------------------------------------
#  Configuration
# ---------------------------------------------------------------------------------------

# Prints the values of the given keys, one a line (an empty line for a key that is not
# set) and then a line "--", read with flink_py's own GlobalConfiguration: config.yaml or flink-conf.yaml, flat or
# nested. Exits 3 when flink_py cannot be imported, 4 when the configuration is bad.
readFromConfigFile() {
    "$FLINK_PYTHON" - "$FLINK_CONF_DIR" "$@" << 'EOF'
import sys

try:
    from flink_py.common.configuration import GlobalConfiguration
    from flink_py.errors import ConfigurationError
except ImportError as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(3)
try:
    configuration = GlobalConfiguration.load_configuration(sys.argv[1])
except (ConfigurationError, OSError) as e:  # reported by the caller, on one line
    prefix = "" if isinstance(e, ConfigurationError) else f"{type(e).__name__}: "
    print(prefix + " ".join(str(e).split()), file=sys.stderr)
    sys.exit(4)
for key in sys.argv[2:]:
    print(" ".join(configuration.get_string(key, "").splitlines()))
print("--")  # so that the reader never meets the end of its input early
EOF
}

# Sets FLINK_PID_DIR, FLINK_LOG_DIR, MAX_LOG_FILE_NUMBER, FLINK_SSH_OPTS and
# HIGH_AVAILABILITY from the environment, else the configuration, else the defaults; exits
# with a message that says what to do when flink_py or the configuration cannot be read.
loadFlinkConfig() {
    local error_file status=0 values
    local env_pid_dir env_log_dir env_log_max env_ssh_opts
    local high_availability high_availability_deprecated recovery_mode_deprecated

    error_file=$(mktemp "${TMPDIR:-/tmp}/flink-config.XXXXXX")
    values=$(readFromConfigFile "$KEY_ENV_PID_DIR" "$KEY_ENV_LOG_DIR" "$KEY_ENV_LOG_MAX" \
        "$KEY_ENV_SSH_OPTS" "$KEY_HIGH_AVAILABILITY" "$KEY_HIGH_AVAILABILITY_DEPRECATED" \
        "$KEY_RECOVERY_MODE_DEPRECATED" 2> "$error_file") || status=$?
    if [ "$status" -ne 0 ]; then
        if [ "$status" -eq 3 ]; then
            echo "The Python '$FLINK_PYTHON' ($(command -v "$FLINK_PYTHON")) cannot import flink_py:" >&2
            sed 's/^/    /' "$error_file" >&2
            echo "Install flink_py into that Python (cd \"$FLINK_HOME\" && $FLINK_PYTHON -m pip install -e .)" >&2
            echo "or set FLINK_PYTHON to a Python that has it (export FLINK_PYTHON=/path/to/python3)." >&2
        else
            # one line: the error names the file and the line (warnings logged before it,
            # such as unknown keys, are not the reason and stay out)
            echo "Cannot read the Flink configuration in '$FLINK_CONF_DIR': $(tail -n 1 "$error_file")" >&2
        fi
        rm -f "$error_file"
        exit 1
    fi
    rm -f "$error_file"

    {
        IFS= read -r env_pid_dir
        IFS= read -r env_log_dir
        IFS= read -r env_log_max
        IFS= read -r env_ssh_opts
        IFS= read -r high_availability
        IFS= read -r high_availability_deprecated
        IFS= read -r recovery_mode_deprecated
    } <<< "$values"

    if [ -z "${FLINK_PID_DIR:-}" ]; then
        FLINK_PID_DIR="${env_pid_dir:-$DEFAULT_ENV_PID_DIR}"
    fi
    if [ -z "${FLINK_LOG_DIR:-}" ]; then
        FLINK_LOG_DIR="${env_log_dir:-$DEFAULT_FLINK_LOG_DIR}"
    fi
    if [ -z "${MAX_LOG_FILE_NUMBER:-}" ]; then
        MAX_LOG_FILE_NUMBER="${env_log_max:-$DEFAULT_ENV_LOG_MAX}"
    fi
    if ! [[ "$MAX_LOG_FILE_NUMBER" =~ $IS_NUMBER ]]; then
        echo "[WARNING] $KEY_ENV_LOG_MAX must be a non-negative whole number," \
            "not '$MAX_LOG_FILE_NUMBER'; using $DEFAULT_ENV_LOG_MAX." >&2
        MAX_LOG_FILE_NUMBER=$DEFAULT_ENV_LOG_MAX
    fi
    if [ -z "${FLINK_SSH_OPTS:-}" ]; then
        FLINK_SSH_OPTS="${env_ssh_opts:-$DEFAULT_ENV_SSH_OPTS}"
    fi
    if [ -z "${HIGH_AVAILABILITY:-}" ]; then
        HIGH_AVAILABILITY="${high_availability:-${high_availability_deprecated:-${recovery_mode_deprecated:-NONE}}}"
    fi

    # The scripts call each other (start-cluster.sh -> taskmanager.sh -> flink-daemon.sh):
    # the first one reads the configuration, the others reuse what it exported.
    _FLINK_CONFIG_LOADED_FROM="$FLINK_CONF_DIR"
    export FLINK_LOG_DIR FLINK_PID_DIR MAX_LOG_FILE_NUMBER FLINK_SSH_OPTS HIGH_AVAILABILITY \
        _FLINK_CONFIG_LOADED_FROM
}

if [ "${_FLINK_CONFIG_LOADED_FROM:-}" != "$FLINK_CONF_DIR" ]; then
    loadFlinkConfig
fi

# ---------------------------------------------------------------------------------------
#  Helpers
# ---------------------------------------------------------------------------------------

# Whether the cluster runs with high availability (several JobManagers from conf/masters).
isHighAvailability() {
    case "$(echo "$HIGH_AVAILABILITY" | tr '[:upper:]' '[:lower:]')" in
        ""|none|standalone) return 1 ;;
        *) return 0 ;;
    esac
}

# Whether a host name from conf/masters or conf/workers is this machine: then its daemon is
# started directly instead of over ssh.
isLocalHost() {
    case "$1" in
        localhost|127.0.0.1|::1|"$HOSTNAME"|"${HOSTNAME%%.*}") return 0 ;;
        *) return 1 ;;
    esac
}

# Extracts the host name from a line of conf/masters or conf/workers: drops a '#' comment
# and the network topology prefix ('/rack1/host' -> 'host'), trims blanks.
extractHostName() {
    local line="${1%%#*}"
    local host
    host=$(echo "$line" | tr -d '[:space:]')
    if [[ "$host" =~ ^.*/([0-9a-zA-Z.:_-]+)$ ]]; then
        host=${BASH_REMATCH[1]}
    fi
    echo "$host"
}

# Reads conf/masters into MASTERS (host names) and WEBUIPORTS (the port after ':', or 0);
# MASTERS_ALL_LOCALHOST tells whether every master is this machine.
readMasters() {
    MASTERS_FILE="${FLINK_CONF_DIR}/masters"

    if [[ ! -f "${MASTERS_FILE}" ]]; then
        echo "No masters file. Please specify masters in 'conf/masters'."
        exit 1
    fi

    MASTERS=()
    WEBUIPORTS=()
    MASTERS_ALL_LOCALHOST=true

    local line host_and_port host port
    while IFS= read -r line || [ -n "$line" ]; do
        host_and_port=$(extractHostName "$line")
        if [ -n "$host_and_port" ]; then
            host=${host_and_port%%:*}
            port=""
            if [[ "$host_and_port" == *:* ]]; then
                port=${host_and_port#*:}
            fi
            if [ -n "$port" ] && ! [[ "$port" =~ $IS_NUMBER ]]; then
                echo "Bad line '$line' in $MASTERS_FILE: expected host[:webuiport]."
                exit 1
            fi
            MASTERS+=("$host")
            WEBUIPORTS+=("${port:-0}")
            if ! isLocalHost "$host"; then
                MASTERS_ALL_LOCALHOST=false
            fi
        fi
    done < "$MASTERS_FILE"

    if [ "${#MASTERS[@]}" -eq 0 ]; then
        echo "No masters in $MASTERS_FILE. Please specify masters in 'conf/masters'."
        exit 1
    fi
}

# Reads conf/workers into WORKERS, one entry per line (a host listed N times starts N
# TaskManagers); WORKERS_ALL_LOCALHOST tells whether every worker is this machine.
readWorkers() {
    WORKERS_FILE="${FLINK_CONF_DIR}/workers"

    if [[ ! -f "$WORKERS_FILE" ]]; then
        echo "No workers file. Please specify workers in 'conf/workers'."
        exit 1
    fi

    WORKERS=()
    WORKERS_ALL_LOCALHOST=true

    local line host
    while IFS= read -r line || [ -n "$line" ]; do
        host=$(extractHostName "$line")
        if [ -n "$host" ]; then
            WORKERS+=("$host")
            if ! isLocalHost "$host"; then
                WORKERS_ALL_LOCALHOST=false
            fi
        fi
    done < "$WORKERS_FILE"

    if [ "${#WORKERS[@]}" -eq 0 ]; then
        echo "No workers in $WORKERS_FILE. Please specify workers in 'conf/workers'."
        exit 1
    fi
}

# Runs a bin/ script on a remote host in the background, as Flink does:
# runOnRemoteHost <host> <script> <args...>
runOnRemoteHost() {
    local host=$1
    local script=$2
    shift 2
    local command="nohup /bin/bash -l \"${FLINK_BIN_DIR}/${script}\""
    local arg
    for arg in "$@"; do
        command+=" \"${arg}\""
    done
    # FLINK_SSH_OPTS is a list of options: split on purpose.
    # shellcheck disable=SC2086
    ssh -n $FLINK_SSH_OPTS "$host" -- "$command &"
}

# Starts or stops one TaskManager per line of conf/workers: TMWorkers start|stop
# Returns 1 as soon as a TaskManager on this machine does not start (the others are not
# started then); stop goes on through every worker.
TMWorkers() {
    local cmd=$1
    local worker

    readWorkers

    if [ "$WORKERS_ALL_LOCALHOST" = true ]; then
        # all-local setup
        for worker in "${WORKERS[@]}"; do
            if ! "${FLINK_BIN_DIR}/taskmanager.sh" "$cmd" && [ "$cmd" = start ]; then
                return 1
            fi
        done
    else
        # non-local setup
        for worker in "${WORKERS[@]}"; do
            runOnRemoteHost "$worker" taskmanager.sh "$cmd"
        done
    fi
}

# Keeps at most MAX_LOG_FILE_NUMBER old copies of a log file: log -> log.1 -> log.2 ...
rotateLogFile() {
    local log=$1
    local num=$MAX_LOG_FILE_NUMBER
    local prev
    if [ -f "$log" ] && [ "$num" -gt 0 ]; then
        while [ "$num" -gt 1 ]; do
            prev=$((num - 1))
            if [ -f "$log.$prev" ]; then
                mv "$log.$prev" "$log.$num"
            fi
            num=$prev
        done
        mv "$log" "$log.$num"
    fi
}

# Creates the cluster secret ($FLINK_CONF_DIR/.cluster-secret, mode 0600) unless one is
# configured: every daemon and `flink` command of this installation then finds the same one.
# Exits with the reason when it cannot.
ensureClusterSecret() {
    if ! "$FLINK_PYTHON" -m flink_py.security.cluster_secret ensure "$FLINK_CONF_DIR" > /dev/null; then
        echo "Cannot set up the cluster secret (see above); nothing was started." >&2
        exit 1
    fi
}
