#!/usr/bin/env bash
################################################################################
# Stops a flink_py standalone cluster (Flink's stop-cluster.sh): one TaskManager per line
# of conf/workers, then the JobManager(s) of conf/masters; locally or over ssh as
# start-cluster.sh started them.
################################################################################

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

# Stop TaskManager instance(s)
TMWorkers stop

# Stop JobManager instance(s)
if isHighAvailability || [ -f "${FLINK_CONF_DIR}/masters" ]; then
    readMasters
    masters_to_stop=1
    if isHighAvailability; then
        masters_to_stop=${#MASTERS[@]}
    fi

    for ((i = 0; i < masters_to_stop; i++)); do
        master=${MASTERS[i]}
        if [ "$MASTERS_ALL_LOCALHOST" = true ]; then
            "${FLINK_BIN_DIR}"/jobmanager.sh stop
        else
            runOnRemoteHost "$master" jobmanager.sh stop
        fi
    done
else
    "${FLINK_BIN_DIR}"/jobmanager.sh stop
fi
