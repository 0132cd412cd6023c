#!/usr/bin/env bash
################################################################################
# Starts or stops a flink_py daemon on this host (Flink's flink-daemon.sh).
#
#   start             runs the daemon in the background (nohup), appends its pid to
#                     $FLINK_PID_DIR/flink-$USER-<daemon>.pid, stdout/stderr to
#                     $FLINK_LOG_DIR/flink-$USER-<daemon>-<id>-$HOSTNAME.out/.log, and
#                     waits until it is ready (its ports are bound); exits 1, with the end
#                     of its log, if it exits or is not ready in time (then it is stopped)
#   start-foreground  runs the daemon in this terminal (replaces this shell)
#   stop              stops the daemon whose pid is last in the pid file
#   stop-all          stops every daemon in the pid file
#   stop-pid <pid>    stops the daemon with that pid, if the pid file has it
#
# <id> is the lowest index no running instance of the daemon on this host uses, so that
# each has its own log files. Entries of the pid file that are no running instance (a killed
# daemon) are dropped at start.
#
# Environment: FLINK_PY_JOBMANAGER_MODULE / FLINK_PY_TASKMANAGER_MODULE replace the Python
# module run for a daemon; FLINK_DAEMON_STARTUP_TIMEOUT (seconds, default 30) is how long a
# started daemon may take to be ready (it writes the file FLINK_PY_READY_FILE names);
# FLINK_STOP_TIMEOUT (seconds, default 10) is how long stop waits after SIGTERM before it
# sends SIGKILL; FLINK_STARTED_DAEMONS_FILE, when set, gets a line "<daemon> <pid>" for each
# daemon started (start-cluster.sh stops them if a later one fails).
################################################################################

USAGE="Usage: flink-daemon.sh (start|stop|start-foreground|stop-all|stop-pid) (jobmanager|taskmanager) [args]"

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

STARTUP_TIMEOUT_SECONDS=${FLINK_DAEMON_STARTUP_TIMEOUT:-30}
STOP_TIMEOUT_SECONDS=${FLINK_STOP_TIMEOUT:-10}
if ! [[ "$STARTUP_TIMEOUT_SECONDS" =~ $IS_NUMBER && "$STOP_TIMEOUT_SECONDS" =~ $IS_NUMBER ]]; then
    echo "FLINK_DAEMON_STARTUP_TIMEOUT and FLINK_STOP_TIMEOUT must be whole numbers of seconds," \
        "not '$STARTUP_TIMEOUT_SECONDS' and '$STOP_TIMEOUT_SECONDS'."
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

# The pid file is changed under a lock (several daemons may start or stop at once); a start
# lets go of it while its daemon gets ready. Where there is no flock (macOS), the lock is a
# directory next to the pid file, holding its owner's pid so that one left behind by a killed
# script is recognised.
LOCK_DIR="$FLINK_PID_DIR/flink-$FLINK_IDENT_STRING-$DAEMON.pid.lock"
HOLDING_LOCK_DIR=false

lockPidFile() {
    if command -v flock > /dev/null 2>&1; then
        exec 200< "$FLINK_PID_DIR"
        flock 200
        return
    fi
    local owner
    local checks_left=600
    until mkdir "$LOCK_DIR" 2> /dev/null; do
        owner=$(cat "$LOCK_DIR/owner" 2> /dev/null)
        if [ -n "$owner" ] && ! kill -0 "$owner" > /dev/null 2>&1; then
            rm -rf "$LOCK_DIR" # its owner is gone
            continue
        fi
        if [ "$checks_left" -le 0 ]; then
            echo "Cannot lock $pid: $LOCK_DIR has been held by pid ${owner:-?} for 60 seconds."
            exit 1
        fi
        checks_left=$((checks_left - 1))
        sleep 0.1
    done
    echo "$$" > "$LOCK_DIR/owner"
    HOLDING_LOCK_DIR=true
}

unlockPidFile() {
    if command -v flock > /dev/null 2>&1; then
        flock -u 200
        exec 200<&-
    elif [ "$HOLDING_LOCK_DIR" = true ]; then
        rm -rf "$LOCK_DIR"
        HOLDING_LOCK_DIR=false
    fi
}

trap '[ "$HOLDING_LOCK_DIR" = true ] && rm -rf "$LOCK_DIR"' EXIT

# Writes the given pids as the pid file (removes it when there are none).
writePidFile() {
    if [ "$#" -eq 0 ]; then
        rm -f "$pid"
    else
        printf '%s\n' "$@" > "$pid.tmp"
        mv "$pid.tmp" "$pid"
    fi
}

# The log index of a running instance: the number in the name of the .out file its stdout
# goes to (read from /proc, so Linux only); nothing when it cannot be told.
daemonIndex() {
    local target name index
    local prefix="flink-${FLINK_IDENT_STRING}-${DAEMON}-"
    local suffix="-${HOSTNAME}.out"
    target=$(readlink "/proc/$1/fd/1" 2> /dev/null) || return 0
    name=${target##*/}
    [[ "$name" == "$prefix"*"$suffix" ]] || return 0
    index=${name#"$prefix"}
    index=${index%"$suffix"}
    if [[ "$index" =~ $IS_NUMBER ]]; then
        echo "$index"
    fi
}

# Under the lock: drops the entries of the pid file that are no running instance of this
# daemon (a killed daemon's pid stays in the file), then sets RUNNING to the number of
# instances left and NEXT_ID to the lowest log index none of them uses (where their indexes
# cannot be told, their number, as in Flink).
prunePidFile() {
    local entry index
    local kept=()
    local used=" "
    local known=true
    if [ -f "$pid" ]; then
        while IFS= read -r entry || [ -n "$entry" ]; do
            entry=$(echo "$entry" | tr -d '[:space:]')
            [ -z "$entry" ] && continue
            if isDaemonProcess "$entry"; then
                kept+=("$entry")
                index=$(daemonIndex "$entry")
                if [ -n "$index" ]; then
                    used+="$index "
                else
                    known=false
                fi
            fi
        done < "$pid"
        writePidFile "${kept[@]}"
    fi
    RUNNING=${#kept[@]}
    if [ "$known" = true ]; then
        NEXT_ID=0
        while [[ "$used" == *" $NEXT_ID "* ]]; do
            NEXT_ID=$((NEXT_ID + 1))
        done
    else
        NEXT_ID=$RUNNING
    fi
}

# Under the lock: removes one pid from the pid file; returns 1 if the file did not have it.
removeFromPidFile() {
    local entry found=1
    local kept=()
    [ -f "$pid" ] || return 1
    while IFS= read -r entry || [ -n "$entry" ]; do
        entry=$(echo "$entry" | tr -d '[:space:]')
        [ -z "$entry" ] && continue
        if [ "$entry" = "$1" ]; then
            found=0
        else
            kept+=("$entry")
        fi
    done < "$pid"
    writePidFile "${kept[@]}"
    return "$found"
}

if [[ $STARTSTOP == "start-foreground" ]]; then
    echo "Starting $DAEMON as a console application on host $HOSTNAME."
    exec "$FLINK_PYTHON" -m "$MODULE_TO_RUN" "${ARGS[@]}"
fi

mkdir -p "$FLINK_PID_DIR"

# One script at a time changes the pid file (several TaskManagers may start at once).
lockPidFile

case $STARTSTOP in

    (start)
        mkdir -p "$FLINK_LOG_DIR"

        # Killed daemons leave their pids behind: they are neither counted nor in the way of
        # a log index.
        prunePidFile
        id=$NEXT_ID

        log="${FLINK_LOG_DIR}/flink-${FLINK_IDENT_STRING}-${DAEMON}-${id}-${HOSTNAME}.log"
        out="${FLINK_LOG_DIR}/flink-${FLINK_IDENT_STRING}-${DAEMON}-${id}-${HOSTNAME}.out"

        rotateLogFile "$log"
        rotateLogFile "$out"

        # Print a warning if daemons are already running on host
        if [ "$RUNNING" -gt 0 ]; then
            echo "[WARNING] $RUNNING instance(s) of $DAEMON are already running on $HOSTNAME."
        fi

        ready_dir=$(mktemp -d "${TMPDIR:-/tmp}/flink-${DAEMON}-ready.XXXXXX")
        ready_file="$ready_dir/ready"

        echo "Starting $DAEMON daemon on host $HOSTNAME."
        # The daemon logs to stderr: that is its .log; anything it prints goes to its .out.
        # (FLINK_LOG_FILE only tells the daemon where its log is; it writes FLINK_PY_READY_FILE
        # once it serves.)
        # shellcheck disable=SC2094
        FLINK_LOG_FILE="$log" FLINK_PY_READY_FILE="$ready_file" \
            nohup "$FLINK_PYTHON" -m "$MODULE_TO_RUN" "${ARGS[@]}" \
            > "$out" 2> "$log" < /dev/null 200<&- &
        mypid=$!

        # Recorded before the lock is let go, once the daemon runs its module (its output is
        # redirected by then): a start running meanwhile sees it and its log index.
        checks_left=50
        while ! isDaemonProcess "$mypid" && kill -0 "$mypid" > /dev/null 2>&1 \
                && [ "$checks_left" -gt 0 ]; do
            checks_left=$((checks_left - 1))
            sleep 0.1
        done
        echo "$mypid" >> "$pid"
        unlockPidFile

        # Started means ready (its ports are bound), not merely alive: a daemon that exits
        # (a bad argument, a port in use, a broken install) or hangs is reported here rather
        # than found missing later.
        outcome=timeout
        checks_left=$((STARTUP_TIMEOUT_SECONDS * 10))
        while [ "$checks_left" -gt 0 ]; do
            if ! kill -0 "$mypid" > /dev/null 2>&1; then
                outcome=exited
                break
            fi
            if [ -e "$ready_file" ]; then
                outcome=ready
                break
            fi
            checks_left=$((checks_left - 1))
            sleep 0.1
        done
        rm -rf "$ready_dir"

        if [ "$outcome" = ready ]; then
            if [ -n "${FLINK_STARTED_DAEMONS_FILE:-}" ]; then
                echo "$DAEMON $mypid" >> "$FLINK_STARTED_DAEMONS_FILE"
            fi
            exit 0
        fi
        if [ "$outcome" = exited ]; then
            exit_code=0
            wait "$mypid" || exit_code=$?
            echo "Error starting $DAEMON daemon (it exited with code $exit_code); the end of $log:"
        else
            echo "Error starting $DAEMON daemon (pid: $mypid): it was not ready within" \
                "$STARTUP_TIMEOUT_SECONDS seconds (FLINK_DAEMON_STARTUP_TIMEOUT); stopping it. The end of $log:"
            stopProcesses "$mypid"
        fi
        lockPidFile
        removeFromPidFile "$mypid" || true
        tail -n 20 "$log" | sed 's/^/    /'
        exit 1
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

    (stop-pid)
        to_stop=${ARGS[0]:-}
        if removeFromPidFile "$to_stop" && isDaemonProcess "$to_stop"; then
            echo "Stopping $DAEMON daemon (pid: $to_stop) on host $HOSTNAME."
            stopProcesses "$to_stop"
        else
            echo "No $DAEMON daemon (pid: $to_stop) is running on $HOSTNAME."
        fi
    ;;

    (*)
        echo "Unexpected argument '$STARTSTOP'. $USAGE."
        exit 1
    ;;

esac
