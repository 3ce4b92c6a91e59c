#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for the system tests (the `slurm` provider device).
#
#   slurm_cluster.sh start DIR   starts munged, slurmctld and slurmd with everything in DIR, waits for the node
#                                to be idle, and prints `export SLURM_CONF=DIR/slurm.conf`
#   slurm_cluster.sh stop DIR    stops what `start DIR` started, by the pids it recorded
#
# Nothing is shared with a system-wide installation: its own munge key and socket (AuthInfo=socket=...),
# free TCP ports for slurmctld and slurmd, state, spool, logs and pid files all under DIR. So it needs no
# running munge service and leaves none behind. Clients (sbatch, squeue, scancel) find it through
# SLURM_CONF=DIR/slurm.conf. Runs as root (SlurmUser=root), as the CI does.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
ACTION=$1
DIR=$2

# A TCP port on 127.0.0.1 that nothing listens on, from a range away from the usual ones.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Stops the processes whose pids the given files hold (SIGTERM, SIGKILL after 5 s), all at once.
stop_pid_files() {
  local file pid pids=()
  for file in "$@"; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    rm -f "$file"
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

stop_cluster() {
  # Jobs first: slurmd leaves running job steps (slurmstepd) behind when it stops. Then slurmd and the
  # controller, and munge last (they use it until they stop).
  if [ -f "$DIR/slurm.conf" ] && [ -f "$DIR/slurmctld.started" ]; then
    export SLURM_CONF="$DIR/slurm.conf"
    if [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
      scancel --full --user="$(id -un)" 2>/dev/null || true
      for _ in $(seq 1 100); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_pid_files "$DIR/slurmd.started" "$DIR/slurmctld.started"
  stop_pid_files "$DIR/munged.started"
}

start_cluster() {
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
      echo "$tool is not installed (Debian: apt-get install slurm-wlm munge)" >&2
      exit 3
    }
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
  chmod 700 "$DIR/munge"
  DIR=$(cd "$DIR" && pwd)

  # munge: a key of our own, a socket of our own. --force: munged refuses root without it.
  if [ ! -f "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1 count=1024 status=none
    chmod 400 "$DIR/munge/munge.key"
  fi
  munged --foreground --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
    --seed-file="$DIR/munge/munged.seed" >>"$DIR/munge/munged.out" 2>&1 &
  echo $! >"$DIR/munged.started"
  for _ in $(seq 1 100); do
    [ -S "$DIR/munge/munge.socket" ] && break
    sleep 0.1
  done
  [ -S "$DIR/munge/munge.socket" ] || {
    echo "munged did not start: $(tail -5 "$DIR/munge/munged.log" 2>/dev/null)" >&2
    stop_cluster
    exit 1
  }

  local host cpus ctld_port slurmd_port
  host=$(hostname -s)
  # More CPUs than the machine may have (config_overrides): a task asking for 4 cores still runs here.
  cpus=$(nproc)
  [ "$cpus" -ge 8 ] || cpus=8
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  cat >"$DIR/slurm.conf" <<EOF
ClusterName=flowstone-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Default=YES Nodes=$host MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$DIR/slurm.conf"
  slurmctld -D -i -f "$DIR/slurm.conf" >>"$DIR/slurmctld.out" 2>&1 &
  echo $! >"$DIR/slurmctld.started"
  slurmd -D -N "$host" -f "$DIR/slurm.conf" >>"$DIR/slurmd.out" 2>&1 &
  echo $! >"$DIR/slurmd.started"
  for _ in $(seq 1 300); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    if [ "$state" = "idle" ]; then
      echo "export SLURM_CONF=$DIR/slurm.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "the Slurm node did not become idle (state '${state:-}'):" >&2
  tail -5 "$DIR/slurmctld.log" "$DIR/slurmd.log" "$DIR/slurmctld.out" "$DIR/slurmd.out" >&2 2>/dev/null || true
  stop_cluster
  exit 1
}

case "$ACTION" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
