#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1, for tests: munged, slurmctld and
# slurmd, all under DIR (config, keys, state, logs), none of them system-wide.
#   cluster.sh start DIR   prints the SLURM_CONF path once the node is idle
#   cluster.sh stop DIR
#   cluster.sh slurmd-stop DIR | slurmd-start DIR   (the node's daemon only)
# Exit 77 with a reason on stderr when this machine cannot run one.
set -u
cmd=${1:?start|stop|slurmd-stop|slurmd-start}
dir=${2:?DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf

skip() { echo "slurm cluster: $*" >&2; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_slurmd() {
  /usr/sbin/slurmd -f "$conf" -N "$(cat "$dir/nodename")" >>"$dir/slurmd.out" 2>&1
}

stop_pidfile() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$f"
}

case $cmd in
start)
  [ "$(id -u)" = 0 ] || skip "needs root (slurmd runs jobs as their user and sets up their processes)"
  for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/sbin/mungekey; do
    [ -x "$b" ] || skip "$b is missing (Debian packages slurm-wlm and munge: make deps installs them)"
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/log"
  chmod 700 "$dir/munge"
  /usr/sbin/mungekey -c -k "$dir/munge/munge.key" -f 2>/dev/null || skip "mungekey failed"
  /usr/sbin/munged --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    --force 2>>"$dir/log/munged.err" || skip "munged did not start: $(cat "$dir/log/munged.err")"
  node=$(hostname -s)
  echo "$node" >"$dir/nodename"
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2/1024/2)}' /proc/meminfo)
  cat >"$conf" <<CONF
ClusterName=ergontest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdTimeout=10
SlurmctldTimeout=30
MessageTimeout=10
InactiveLimit=0
KillWait=2
MinJobAge=300
SchedulerParameters=sched_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  /usr/sbin/slurmctld -f "$conf" -i >>"$dir/slurmctld.out" 2>&1 || skip "slurmctld did not start: $(tail -3 "$dir/log/slurmctld.log")"
  start_slurmd || skip "slurmd did not start: $(tail -3 "$dir/log/slurmd.log")"
  for _ in $(seq 100); do
    state=$(SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null)
    case $state in idle*|mixed*|alloc*) echo "$conf"; exit 0;; esac
    sleep 0.2
  done
  skip "the node never became idle (state '$state'); slurmd log: $(tail -3 "$dir/log/slurmd.log")"
  ;;
slurmd-stop) stop_pidfile "$dir/slurmd.pid" ;;
slurmd-start) start_slurmd ;;
stop)
  [ -f "$conf" ] && SLURM_CONF=$conf scancel --user="$(id -un)" 2>/dev/null
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
  ;;
*) echo "usage: cluster.sh start|stop|slurmd-stop|slurmd-start DIR" >&2; exit 2 ;;
esac
