#!/usr/bin/env bash
################################################################################
# Starts or stops a flink_py daemon on this host (Flink's flink-daemon.sh).
#
#   start             runs the daemon in the background (nohup), appends its pid to
#                     $FLINK_PID_DIR/flink-$USER-<daemon>.pid, stdout/stderr to
#                     $FLINK_LOG_DIR/flink-$USER-<daemon>-<id>-$HOSTNAME.out/.log
#   start-foreground  runs the daemon in this terminal (replaces this shell)
#   stop              stops the daemon whose pid is last in the pid file
#   stop-all          stops every daemon in the pid file
#
# Environment: FLINK_PY_JOBMANAGER_MODULE / FLINK_PY_TASKMANAGER_MODULE replace the Python
# module run for a daemon; FLINK_DAEMON_STARTUP_CHECK (seconds, default 1) is how long a
# started daemon must stay alive to count as started; FLINK_STOP_TIMEOUT (seconds, default
# 10) is how long stop waits after SIGTERM before it sends SIGKILL.
################################################################################

USAGE="Usage: flink-daemon.sh (start|stop|start-foreground|stop-all) (jobmanager|taskmanager) [args]"

STARTSTOP=${1:-}
DAEMON=${2:-}
ARGS=("${@:3}") # the remaining arguments, passed on to the daemon

case $DAEMON in
    (jobmanager)
        MODULE_TO_RUN=${FLINK_PY_JOBMANAGER_MODULE:-flink_py.runtime.entrypoint.jobmanager}
    ;;

    (taskmanager)
        MODULE_TO_RUN=${FLINK_PY_TASKMANAGER_MODULE:-flink_py.runtime.entrypoint.taskmanager}
    ;;

    (*)
        echo "Unknown daemon '${DAEMON}'. $USAGE."
        exit 1
    ;;
esac

bin=$(dirname -- "${BASH_SOURCE[0]}")
bin=$(cd -- "$bin" && pwd -P)

# shellcheck source=bin/config.sh
. "$bin"/config.sh

STARTUP_CHECK_SECONDS=${FLINK_DAEMON_STARTUP_CHECK:-1}
STOP_TIMEOUT_SECONDS=${FLINK_STOP_TIMEOUT:-10}
if ! [[ "$STARTUP_CHECK_SECONDS" =~ $IS_NUMBER && "$STOP_TIMEOUT_SECONDS" =~ $IS_NUMBER ]]; then
    echo "FLINK_DAEMON_STARTUP_CHECK and FLINK_STOP_TIMEOUT must be whole numbers of seconds," \
        "not '$STARTUP_CHECK_SECONDS' and '$STOP_TIMEOUT_SECONDS'."
    exit 1
fi

pid="$FLINK_PID_DIR/flink-$FLINK_IDENT_STRING-$DAEMON.pid"

# Whether a pid is a running instance of this daemon (and not some other process that got
# a recycled pid after a crash or a reboot).
isDaemonProcess() {
    local process=$1
    local command_line
    [[ "$process" =~ $IS_NUMBER ]] || return 1
    kill -0 "$process" > /dev/null 2>&1 || return 1
    command_line=$(ps -ww -p "$process" -o args= 2> /dev/null) || return 1
    [[ "$command_line" == *"$MODULE_TO_RUN"* ]]
}

# Waits until none of the given pids is this daemon any more: waitForExit <seconds> <pids...>
# Returns 1 if some are still running when the time is up.
waitForExit() {
    local checks_left=$(($1 * 10))
    shift
    local process running
    while true; do
        running=false
        for process in "$@"; do
            if isDaemonProcess "$process"; then
                running=true
            fi
        done
        [ "$running" = false ] && return 0
        [ "$checks_left" -le 0 ] && return 1
        checks_left=$((checks_left - 1))
        sleep 0.1
    done
}

# SIGTERM to the given pids, then SIGKILL to those still running after the stop timeout.
stopProcesses() {
    local process
    for process in "$@"; do
        kill "$process" 2> /dev/null || true
    done
    if ! waitForExit "$STOP_TIMEOUT_SECONDS" "$@"; then
        for process in "$@"; do
            if isDaemonProcess "$process"; then
                echo "$DAEMON daemon (pid: $process) did not stop within $STOP_TIMEOUT_SECONDS seconds; killing it with SIGKILL."
                kill -9 "$process" 2> /dev/null || true
            fi
        done
        waitForExit 5 "$@" || true
    fi
}

if [[ $STARTSTOP == "start-foreground" ]]; then
    echo "Starting $DAEMON as a console application on host $HOSTNAME."
    exec "$FLINK_PYTHON" -m "$MODULE_TO_RUN" "${ARGS[@]}"
fi

mkdir -p "$FLINK_PID_DIR"

# One script at a time changes the pid file (several TaskManagers may start at once).
if command -v flock > /dev/null 2>&1; then
    exec 200< "$FLINK_PID_DIR"
    flock 200
fi

case $STARTSTOP in

    (start)
        mkdir -p "$FLINK_LOG_DIR"

        # Ascending id by the number of lines in the pid file, so that several daemons of
        # one kind on one host get their own log files.
        id=0
        if [ -f "$pid" ]; then
            id=$(wc -l < "$pid" | tr -d ' ')
        fi

        log="${FLINK_LOG_DIR}/flink-${FLINK_IDENT_STRING}-${DAEMON}-${id}-${HOSTNAME}.log"
        out="${FLINK_LOG_DIR}/flink-${FLINK_IDENT_STRING}-${DAEMON}-${id}-${HOSTNAME}.out"

        rotateLogFile "$log"
        rotateLogFile "$out"

        # Print a warning if daemons are already running on host
        if [ -f "$pid" ] && [ "$id" -gt 0 ]; then
            echo "[WARNING] $id instance(s) of $DAEMON are already running on $HOSTNAME."
        fi

        echo "Starting $DAEMON daemon on host $HOSTNAME."
        # The daemon logs to stderr: that is its .log; anything it prints goes to its .out.
        # (FLINK_LOG_FILE only tells the daemon where its log is.)
        # shellcheck disable=SC2094
        FLINK_LOG_FILE="$log" nohup "$FLINK_PYTHON" -m "$MODULE_TO_RUN" "${ARGS[@]}" \
            > "$out" 2> "$log" < /dev/null 200<&- &
        mypid=$!

        # A daemon that dies at once (a bad argument, a port in use, a broken install) is
        # reported here rather than found missing later.
        checks_left=$((STARTUP_CHECK_SECONDS * 10))
        alive=true
        while true; do
            if ! kill -0 "$mypid" > /dev/null 2>&1; then
                alive=false
                break
            fi
            [ "$checks_left" -le 0 ] && break
            checks_left=$((checks_left - 1))
            sleep 0.1
        done

        if [ "$alive" = true ]; then
            echo "$mypid" >> "$pid"
        else
            exit_code=0
            wait "$mypid" || exit_code=$?
            echo "Error starting $DAEMON daemon (it exited with code $exit_code); the end of $log:"
            tail -n 20 "$log" | sed 's/^/    /'
            exit 1
        fi
    ;;

    (stop)
        if [ -f "$pid" ]; then
            # Remove last in pid file
            to_stop=$(tail -n 1 "$pid")

            if [ -z "$to_stop" ]; then
                rm -f "$pid" # If all stopped, clean up pid file
                echo "No $DAEMON daemon to stop on host $HOSTNAME."
            else
                sed '$d' "$pid" > "$pid.tmp" # all but last line

                # If all stopped, clean up pid file
                if [ "$(wc -l < "$pid.tmp")" -eq 0 ]; then
                    rm -f "$pid" "$pid.tmp"
                else
                    mv "$pid.tmp" "$pid"
                fi

                if isDaemonProcess "$to_stop"; then
                    echo "Stopping $DAEMON daemon (pid: $to_stop) on host $HOSTNAME."
                    stopProcesses "$to_stop"
                else
                    echo "No $DAEMON daemon (pid: $to_stop) is running anymore on $HOSTNAME."
                fi
            fi
        else
            echo "No $DAEMON daemon to stop on host $HOSTNAME."
        fi
    ;;

    (stop-all)
        if [ -f "$pid" ]; then
            mv "$pid" "${pid}.tmp"

            to_stop_all=()
            while IFS= read -r to_stop || [ -n "$to_stop" ]; do
                [ -z "$to_stop" ] && continue
                if isDaemonProcess "$to_stop"; then
                    echo "Stopping $DAEMON daemon (pid: $to_stop) on host $HOSTNAME."
                    to_stop_all+=("$to_stop")
                else
                    echo "Skipping $DAEMON daemon (pid: $to_stop), because it is not running anymore on $HOSTNAME."
                fi
            done < "${pid}.tmp"
            rm -f "${pid}.tmp"

            if [ "${#to_stop_all[@]}" -gt 0 ]; then
                stopProcesses "${to_stop_all[@]}"
            fi
        else
            echo "No $DAEMON daemon to stop on host $HOSTNAME."
        fi
    ;;

    (*)
        echo "Unexpected argument '$STARTSTOP'. $USAGE."
        exit 1
    ;;

esac
