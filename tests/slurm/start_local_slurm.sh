#!/usr/bin/env bash
# A single-node SLURM cluster on localhost for the opt-in test `pytest -m slurm` (tests/test_slurm.py).
#
#   bash tests/slurm/start_local_slurm.sh          # install if missing, configure, start; wait for an idle node
#   bash tests/slurm/start_local_slurm.sh status   # what runs, and the node's state
#   bash tests/slurm/start_local_slurm.sh stop     # stop the daemons this script started
#
# Debian/Ubuntu, as root (no systemd needed): installs slurm-wlm and munge with apt-get if missing, writes
# /etc/slurm/slurm.conf for one node named after `hostname -s` on 127.0.0.1 (all its cores, the memory
# `slurmd -C` reports, one partition "main" that profiles/slurm names), then starts munged, slurmctld and
# slurmd as daemons. Running it again while everything is up changes nothing. An /etc/slurm/slurm.conf
# that this script did not write is never overwritten (FORCE=1 does).
#
# No accounting database: AccountingStorageType=accounting_storage/none, so `sacct` has nothing to
# report and the Snakemake SLURM plugin must ask `squeue` for job states (tests/slurm/localhost sets
# `slurm-status-command: squeue`). squeue keeps a finished job for MinJobAge seconds, which must be at
# least 3x the plugin's status-check interval, or the plugin falls back to sacct; 600 s here.
set -euo pipefail

MARK="# written by g2chain tests/slurm/start_local_slurm.sh"
CONF=/etc/slurm/slurm.conf
NODE=$(hostname -s)
LOGDIR=/var/log/slurm
SPOOL=/var/lib/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid

log() { echo "[local-slurm] $*"; }

alive() {  # alive PIDFILE: the pid file names a running process
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_state() {
    sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -1 || true
}

need_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "start_local_slurm.sh: run as root (it installs packages and starts daemons)" >&2
        exit 1
    fi
}

install() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurm-wlm)
    command -v munged >/dev/null || missing+=(munge)
    if ((${#missing[@]})); then
        log "apt-get install ${missing[*]}"
        apt-get update -qq
        # policy-rc.d on container images refuses the packages' own service start: we start them below
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

write_conf() {
    if [[ -f $CONF ]] && ! grep -qF "$MARK" "$CONF" && [[ ${FORCE:-0} != 1 ]]; then
        echo "start_local_slurm.sh: $CONF exists and was not written by this script; FORCE=1 overwrites it" >&2
        exit 1
    fi
    # the node as slurmd sees it (CPUs, sockets, cores, threads, RealMemory): configuring more than it
    # finds would drain the node
    local hw
    hw=$(slurmd -C | head -1 | sed -e "s/^NodeName=[^ ]*//" -e "s/UpTime=.*//")
    local new
    new=$(cat <<EOF
$MARK
# One node on localhost for the opt-in SLURM test; not a production setup.
ClusterName=g2local
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$SPOOL/slurmctld
SlurmdSpoolDir=$SPOOL/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
# no cgroups (none in containers, nor needed on one node): processes tracked by parent pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# cores and memory are consumable: a job's --mem and --cpus-per-task are what it holds
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# no slurmdbd: sacct answers nothing, squeue is the status source; it keeps finished jobs 10 min
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
InactiveLimit=0
KillWait=30
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
)
    if [[ -f $CONF ]] && [[ "$(cat "$CONF")" == "$new" ]]; then
        return 1  # unchanged
    fi
    mkdir -p /etc/slurm
    printf '%s\n' "$new" >"$CONF"
    log "wrote $CONF ($NODE:$hw)"
    return 0
}

start_munge() {
    if alive "$MUNGE_PID"; then return; fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 0755 /run/munge
    [[ -s /etc/munge/munge.key ]] || runuser -u munge -- mungekey --create
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.2; done
    echo "start_local_slurm.sh: munged does not answer (see /var/log/munge/munged.log)" >&2
    exit 1
}

start_slurm() {
    local changed=$1
    mkdir -p "$LOGDIR" "$SPOOL/slurmctld" "$SPOOL/slurmd"
    if alive "$CTLD_PID"; then
        if [[ $changed == 1 ]]; then log "slurm.conf changed: scontrol reconfigure"; scontrol reconfigure; fi
    else
        log "starting slurmctld"
        /usr/sbin/slurmctld
    fi
    if ! alive "$SLURMD_PID"; then
        log "starting slurmd"
        /usr/sbin/slurmd
    fi
}

wait_idle() {
    local state=""
    for _ in $(seq 60); do
        state=$(node_state)
        case $state in
            idle | mixed | allocated | completing) log "node $NODE is $state"; sinfo; return ;;
            down* | drain* | inval*)
                # e.g. "unexpectedly rebooted" after a restart of the daemons
                scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
        esac
        sleep 1
    done
    echo "start_local_slurm.sh: node $NODE is '${state:-not reported}' after 60 s" \
         "(see $LOGDIR/slurmctld.log and $LOGDIR/slurmd.log)" >&2
    exit 1
}

stop() {
    need_root
    if alive "$CTLD_PID" || alive "$SLURMD_PID"; then
        log "scontrol shutdown (slurmctld and slurmd)"
        scontrol shutdown 2>/dev/null || true
    fi
    for f in "$SLURMD_PID" "$CTLD_PID"; do
        for _ in $(seq 50); do alive "$f" || break; sleep 0.2; done
        if alive "$f"; then log "kill $(cat "$f") ($f)"; kill "$(cat "$f")"; fi
    done
    if alive "$MUNGE_PID"; then log "stopping munged"; kill "$(cat "$MUNGE_PID")"; fi
    log "stopped"
}

status() {
    for f in "$MUNGE_PID" "$CTLD_PID" "$SLURMD_PID"; do
        if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; else echo "$(basename "$f" .pid): not running"; fi
    done
    echo "node $NODE: $(node_state)"
}

case ${1:-start} in
    start)
        need_root
        install
        changed=0
        write_conf && changed=1
        start_munge
        start_slurm "$changed"
        wait_idle
        ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
