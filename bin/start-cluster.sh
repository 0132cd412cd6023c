#!/usr/bin/env bash
################################################################################
# Starts a flink_py standalone cluster (Flink's start-cluster.sh): the JobManager from
# conf/masters, then one TaskManager per line of conf/workers. Daemons on this machine
# (localhost, 127.0.0.1 or this host's name) are started directly; when a file names
# another host, every daemon of that file is started over ssh (options: env.ssh.opts or
# FLINK_SSH_OPTS) with this installation's path, which must be the same on every host.
#
# A daemon started here counts when it is ready (flink-daemon.sh waits for that). If a
# JobManager does not start, no TaskManager is started; if a TaskManager does not start, the
# daemons this run started are stopped again. Either way the script exits 1. (Daemons
# started over ssh are not waited for.)
################################################################################

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

# A missing or empty conf/workers is reported before anything is started.
readWorkers

# The secret the daemons authenticate each other (and `flink` commands) with.
ensureClusterSecret

# flink-daemon.sh writes "<daemon> <pid>" here for each daemon it started on this host.
FLINK_STARTED_DAEMONS_FILE=$(mktemp "${TMPDIR:-/tmp}/flink-started.XXXXXX")
export FLINK_STARTED_DAEMONS_FILE
trap 'rm -f "$FLINK_STARTED_DAEMONS_FILE"' EXIT

# Stops the daemons this run started, the last started first, and exits 1 with a reason.
abortStart() {
    local reason=$1
    local started=() line daemon daemon_pid
    while IFS= read -r line; do
        [ -n "$line" ] && started=("$line" "${started[@]}")
    done < "$FLINK_STARTED_DAEMONS_FILE"
    if [ "${#started[@]}" -gt 0 ]; then
        echo "$reason; stopping the ${#started[@]} daemon(s) this run started."
        for line in "${started[@]}"; do
            daemon=${line%% *}
            daemon_pid=${line#* }
            "${FLINK_BIN_DIR}"/flink-daemon.sh stop-pid "$daemon" "$daemon_pid"
        done
    else
        echo "$reason; nothing else was started."
    fi
    exit 1
}

# Start the JobManager instance(s)
if isHighAvailability || [ -f "${FLINK_CONF_DIR}/masters" ]; then
    readMasters
    if isHighAvailability; then
        echo "Starting HA cluster with ${#MASTERS[@]} masters."
        masters_to_start=${#MASTERS[@]}
    else
        echo "Starting cluster."
        masters_to_start=1
        if [ "${#MASTERS[@]}" -gt 1 ]; then
            echo "[WARNING] conf/masters lists ${#MASTERS[@]} masters, but high-availability.type" \
                "is $HIGH_AVAILABILITY: starting only the JobManager on ${MASTERS[0]}."
        fi
    fi

    for ((i = 0; i < masters_to_start; i++)); do
        master=${MASTERS[i]}
        webuiport=${WEBUIPORTS[i]}
        if [ "$MASTERS_ALL_LOCALHOST" = true ]; then
            "${FLINK_BIN_DIR}"/jobmanager.sh start "$master" "$webuiport" \
                || abortStart "The JobManager on $master did not start (see above)"
        else
            runOnRemoteHost "$master" jobmanager.sh start "$master" "$webuiport"
        fi
    done
else
    # No conf/masters: a single JobManager on this machine, as configured.
    echo "Starting cluster."
    "${FLINK_BIN_DIR}"/jobmanager.sh start \
        || abortStart "The JobManager did not start (see above)"
fi

# Start TaskManager instance(s)
TMWorkers start || abortStart "A TaskManager did not start (see above)"
