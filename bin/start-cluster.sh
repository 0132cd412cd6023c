#!/usr/bin/env bash
################################################################################
# Starts a flink_py standalone cluster (Flink's start-cluster.sh): the JobManager from
# conf/masters, then one TaskManager per line of conf/workers. Daemons on this machine
# (localhost, 127.0.0.1 or this host's name) are started directly; when a file names
# another host, every daemon of that file is started over ssh (options: env.ssh.opts or
# FLINK_SSH_OPTS) with this installation's path, which must be the same on every host.
################################################################################

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

# A missing or empty conf/workers is reported before anything is started.
readWorkers

# The secret the daemons authenticate each other (and `flink` commands) with.
ensureClusterSecret

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
            "${FLINK_BIN_DIR}"/jobmanager.sh start "$master" "$webuiport"
        else
            runOnRemoteHost "$master" jobmanager.sh start "$master" "$webuiport"
        fi
    done
else
    # No conf/masters: a single JobManager on this machine, as configured.
    echo "Starting cluster."
    "${FLINK_BIN_DIR}"/jobmanager.sh start
fi

# Start TaskManager instance(s)
TMWorkers start
