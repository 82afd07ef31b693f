#!/usr/bin/env bash
# tests/slurm/run.sh (`make test-slurm`): `explainer slurm` on a real one-node Slurm
# cluster started from Debian's packages (munge, slurmctld, slurmd, slurm-client),
# with its configuration, state, logs and munge socket in a temporary folder and
# unprivileged ports. It submits a 3-task job array of the bundled video workflow
# on examples/sample.txt plus the dependent finish job, waits for both, then checks
# that every scene ran exactly once (journal records), that the film was joined once
# (by the finish job, not by the array tasks), and stops the daemons it started by
# their pid files. Ends with "N passed, N failed".
# Environment: BUILD (default build), KEEP=1 keeps the temporary folder.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/${BUILD:-build}/explainer
[ -x "$BIN" ] || { echo "test-slurm: $BIN is missing: run make first" >&2; exit 2; }
for cmd in munged mungekey slurmctld slurmd sbatch squeue sinfo python3; do
  command -v "$cmd" >/dev/null || {
    echo "test-slurm: '$cmd' not found: apt-get install munge slurmctld slurmd slurm-client" >&2
    exit 2
  }
done

T=$(mktemp -d /tmp/explainer-slurm.XXXXXX)
# munged wants the socket's folders searchable by all and the key private.
chmod 755 "$T"
mkdir -p "$T/munge" "$T/key" "$T/state" "$T/spool" "$T/logs"
chmod 755 "$T/munge"
chmod 700 "$T/key"
export SLURM_CONF=$T/slurm.conf

stop_daemons() {
  local pidfile pid i
  for pidfile in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { echo "test-slurm: pid $pid ($pidfile) ignored SIGTERM" >&2; kill -9 "$pid"; }
  done
}
finish() {
  stop_daemons
  if [ "${KEEP:-}" = 1 ]; then echo "test-slurm: kept $T"; else rm -rf "$T"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
check() { # check "sentence" command...
  local what=$1
  shift
  if "$@"; then
    echo "ok - $what"; passed=$((passed + 1))
  else
    echo "not ok - $what"; failed=$((failed + 1))
  fi
}
show_logs() {
  local f
  for f in "$T"/*.log "$T"/munge/*.log "$T"/logs/*; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
  done
}
die() { echo "test-slurm: $*" >&2; show_logs >&2; echo "0 passed, 1 failed"; exit 1; }

# Two free loopback ports above 1024.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
HOST=$(hostname -s)
USER_NAME=$(id -un)

mungekey --create --keyfile="$T/key/munge.key" || die "mungekey failed"
munged --socket="$T/munge/munge.socket" --key-file="$T/key/munge.key" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
  --seed-file="$T/munge/munged.seed" || die "munged did not start"

cat > "$SLURM_CONF" <<EOF
ClusterName=explainer-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$SLURM_CONF" || die "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$HOST" || die "slurmd did not start"
for _ in $(seq 150); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || die "the node did not come up (sinfo: $(sinfo -h 2>&1))"
echo "test-slurm: one-node cluster up in $T (ports $CTLD_PORT, $SLURMD_PORT)"

OUT=$T/out
# The shared folder here is a local one: the jobs run on this node.
submitted=$("$BIN" slurm video examples/sample.txt --tasks 3 --output-dir "$OUT" \
  --output="$T/logs/%x-%j.out" 2>"$T/submit.err")
rc=$?
echo "$submitted"
[ "$rc" = 0 ] || die "explainer slurm exited $rc: $(cat "$T/submit.err")"
array_id=$(echo "$submitted" | sed -n 's/^Submitted job array \([0-9]*\) .*/\1/p')
finish_id=$(echo "$submitted" | sed -n 's/.* finish job \([0-9]*\) .*/\1/p')
[ -n "$array_id" ] && [ -n "$finish_id" ] || die "no job ids in: $submitted"

# A guard against a hang, not a timed assertion: video.lua takes about 40 s here.
for _ in $(seq 900); do
  [ -z "$(squeue -h 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h)" ] && echo "test-slurm: queue empty" || die "jobs still queued after 15 min: $(squeue)"

finish_log=$(grep -l "Finish only for examples/sample.txt" "$T"/logs/* 2>/dev/null)
array_logs=$(grep -l "report.shard-" "$T"/logs/* 2>/dev/null | wc -l)
film_lines=$(cat "$T"/logs/* | grep -c "^Film: ")
# Every journal file under the state folder (one per workflow, wherever it keeps it).
journal_records() { find "$OUT/sample/.explainer" -type f -name 'journal*' -exec cat {} +; }
scenes=$("$BIN" parse examples/sample.txt --json | python3 -c '
import json, sys
print(" ".join(str(s["scene_number"]) for s in json.load(sys.stdin)["scenes"]))')

once_each() { # every scene has exactly one "started" and one "done" record
  local n kind count bad=0
  for n in $scenes; do
    for kind in started done; do
      count=$(journal_records | grep -c "^$kind scene=$n ")
      [ "$count" = 1 ] || { echo "  scene $n: $count '$kind' records" >&2; bad=1; }
    done
  done
  [ "$bad" = 0 ] && [ -n "$scenes" ]
}
no_other_records() { # and no "failed" record, no retry
  journal_records | grep -q . && ! journal_records | grep -qv '^\(started\|done\) scene=[0-9]* inputs=[0-9a-f]* attempt=1 '
}
all_done() {
  "$BIN" status video examples/sample.txt --output-dir "$OUT" --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
sys.exit(0 if rows and all(r["status"] == "fresh" for r in rows) else 1)'
}

check "the array ran as 3 tasks, each writing its shard report" [ "$array_logs" = 3 ]
check "the 3 shard reports cover 12 scenes, 4 each, none failed or locked" python3 -c '
import json, sys
reports = [json.load(open(sys.argv[1] + "/report.shard-%d-of-3.json" % k)) for k in (1, 2, 3)]
numbers = sorted(s["scene_number"] for r in reports for s in r["scenes"])
sys.exit(0 if numbers == list(range(12)) and all(r["completed"] == 4 and r["failed"] == 0
         and r["locked"] == 0 for r in reports) else 1)' "$OUT/sample"
check "every scene has exactly one started and one done record in the journal" once_each
check "the journal holds nothing else (no failure, no second attempt)" no_other_records
check "explainer status says every scene is fresh" all_done
check "the finish job ran after the array and reported 12 of 12 scenes done" \
  grep -q "12 scenes, 12 done, 0 failed, 0 not done" "${finish_log:-/dev/null}"
check "the film was joined exactly once, by the finish job" \
  bash -c '[ "$0" = 1 ] && grep -q "^Film: .*sample.mp4 (12 clips" "$1"' "$film_lines" "${finish_log:-/dev/null}"
check "the film is a playable video of more than a minute" python3 -c '
import subprocess, sys
d = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
    "csv=p=0", sys.argv[1]], capture_output=True, text=True).stdout or 0)
sys.exit(0 if d > 60 else 1)' "$OUT/sample/sample.mp4"

[ "$failed" = 0 ] || show_logs
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
