#!/usr/bin/env bash
################################################################################
# Starts or stops the flink_py JobManager on this host (Flink's jobmanager.sh).
#
#   jobmanager.sh start [host [webui-port]] [-D key=value ...]
#   jobmanager.sh start-foreground [host [webui-port]] [-D key=value ...]
#   jobmanager.sh stop | stop-all
#
# host and webui-port (as conf/masters gives them) become -D jobmanager.rpc.address=<host>
# and -D rest.port=<port>; the -D arguments after them override the configuration file.
################################################################################

USAGE="Usage: jobmanager.sh ((start|start-foreground) [host] [webui-port] [args])|stop|stop-all"

STARTSTOP=${1:-}

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

case $STARTSTOP in
    (start|start-foreground)
        args=("${@:2}")
        HOST=""
        WEBUIPORT=""
        # Legacy positional form, used by start-cluster.sh: start <host> [<webui-port>] [-D ...]
        if [ "${#args[@]}" -gt 0 ] && [[ "${args[0]}" != -* ]]; then
            HOST=${args[0]}
            args=("${args[@]:1}")
            if [ "${#args[@]}" -gt 0 ] && [[ "${args[0]}" =~ $IS_NUMBER ]]; then
                WEBUIPORT=${args[0]}
                args=("${args[@]:1}")
            fi
        fi

        ensureClusterSecret
        daemon_args=("--configDir" "${FLINK_CONF_DIR}")
        if [ -n "$HOST" ]; then
            daemon_args+=("-D" "jobmanager.rpc.address=${HOST}")
        fi
        if [ -n "$WEBUIPORT" ] && [ "$WEBUIPORT" -gt 0 ]; then
            daemon_args+=("-D" "rest.port=${WEBUIPORT}")
        fi
        daemon_args+=("${args[@]}")

        exec "${FLINK_BIN_DIR}"/flink-daemon.sh "$STARTSTOP" jobmanager "${daemon_args[@]}"
    ;;

    (stop|stop-all)
        exec "${FLINK_BIN_DIR}"/flink-daemon.sh "$STARTSTOP" jobmanager
    ;;

    (*)
        echo "$USAGE"
        exit 1
    ;;
esac
