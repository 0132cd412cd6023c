#!/usr/bin/env bash
################################################################################
# Starts or stops a flink_py TaskManager on this host (Flink's taskmanager.sh).
#
#   taskmanager.sh start [-D key=value ...]
#   taskmanager.sh start-foreground [-D key=value ...]
#   taskmanager.sh stop | stop-all
#
# Run start once per TaskManager wanted on this host; stop stops the last one started.
################################################################################

USAGE="Usage: taskmanager.sh (start|start-foreground [args])|stop|stop-all"

STARTSTOP=${1:-}

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

case $STARTSTOP in
    (start|start-foreground)
        exec "${FLINK_BIN_DIR}"/flink-daemon.sh "$STARTSTOP" taskmanager \
            --configDir "${FLINK_CONF_DIR}" "${@:2}"
    ;;

    (stop|stop-all)
        exec "${FLINK_BIN_DIR}"/flink-daemon.sh "$STARTSTOP" taskmanager
    ;;

    (*)
        echo "$USAGE"
        exit 1
    ;;
esac
