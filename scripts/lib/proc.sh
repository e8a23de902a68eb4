# Background processes of the local stack: one pid file and one log per process under .state/.
# Sourced by up.sh / down.sh / status.sh.
STATE_DIR="${CRYPTOFLOW_STATE_DIR:-$PWD/.state}"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
mkdir -p "$RUN_DIR" "$LOG_DIR"

# The applications of the stack in start order (services are cryptoflow-localstack's).
STACK_APPS=(upbit-sim stream-sink archive ingest airflow api celery-worker celery-beat)

proc_alive() {  # name
  local pidfile="$RUN_DIR/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

proc_start() {  # name command...
  local name=$1
  shift
  if proc_alive "$name"; then
    echo "  $name: already running (pid $(cat "$RUN_DIR/$name.pid"))"
    return 0
  fi
  # setsid: the process outlives this shell and gets its own process group, so down.sh can stop all of it.
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  echo "  $name: started (pid $!, log $LOG_DIR/$name.log)"
}

proc_stop() {  # name
  local name=$1 pidfile="$RUN_DIR/$1.pid" pid
  if ! proc_alive "$name"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "  $name: stopped"
}

proc_wait_line() {  # name pattern timeout_s: wait until the log shows a line matching pattern
  local name=$1 pattern=$2 timeout=$3
  for _ in $(seq 1 $((timeout * 10))); do
    grep -qE "$pattern" "$LOG_DIR/$name.log" 2>/dev/null && return 0
    proc_alive "$name" || { echo "  $name: exited; last log lines:" >&2; tail -n 20 "$LOG_DIR/$name.log" >&2; return 1; }
    sleep 0.1
  done
  echo "  $name: no '$pattern' in its log after ${timeout}s; last lines:" >&2
  tail -n 20 "$LOG_DIR/$name.log" >&2
  return 1
}
