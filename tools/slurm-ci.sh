#!/usr/bin/env bash
# The Slurm step of CI, on a real single-node Slurm (munge, slurmctld and
# slurmd on this machine, started by ../shared/tools/slurm-single-node/setup.sh):
#   1. `xtask slurm` writes the submit script of a tiny GTSRB experiment (2 seeds,
#      2 shards); it is submitted and every job must end COMPLETED;
#   2. `xtask verify` accepts the folder, and its results equal those of the same
#      experiment run without Slurm, apart from the wall-time columns;
#   3. a second submission whose training array is cancelled at once cancels its repair
#      and report jobs too (nothing is left pending).
# Usage: tools/slurm-ci.sh XTASK   (a built xtask binary; EARLY_REPAIR_DATA set)
# The daemons are stopped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
xtask="$(realpath "$1")"
: "${EARLY_REPAIR_DATA:?set EARLY_REPAIR_DATA}"
setup="${SLURM_SETUP:-$(cd .. && pwd)/shared/tools/slurm-single-node/setup.sh}"
bash "$setup" > /tmp/slurm-setup.log 2>&1 || { cat /tmp/slurm-setup.log; exit 1; }
trap 'bash "$setup" stop >/dev/null 2>&1 || true' EXIT
work="$(mktemp -d)"
tiny=(--profile quick --set 'train.seeds=[7,8]' --set data.train_every=40
      --set data.val_every=20 --set data.repair_every=20 --set data.test_every=20
      --set train.max_epochs=2 --set repair.worst_classes=2 --set repair.particles=20
      --set repair.iterations=12)

# Submits the experiment into $1 and prints its job ids.
submit() {
  "$xtask" slurm gtsrb "${tiny[@]}" --shards 2 --cpus 1 --xtask "$xtask" --out "$1" \
    -o "$1.submit.sh"
  # Shown on standard error through the open descriptor: `tee /dev/stderr` would open
  # the CI log anew, truncating it, when standard error is a file.
  bash "$1.submit.sh" | tee >(cat >&2) | sed -n 's/^to cancel them all: scancel //p'
}

# Waits until none of the jobs $@ is queued (10 minutes at most).
wait_for() {
  local ids; ids=$(IFS=,; echo "$*")
  for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] && return 0
    sleep 1
  done
  echo "jobs $ids are still queued:" >&2; squeue >&2; return 1
}

# The states of the jobs $@ (array tasks one per line).
states() { for id in "$@"; do scontrol -o show job "$id" | grep -o 'JobState=[A-Z_]*'; done; }

read -r -a ids <<<"$(submit "$work/slurm")"
wait_for "${ids[@]}"
if states "${ids[@]}" | grep -v 'JobState=COMPLETED'; then
  echo "a job did not complete; logs:" >&2; tail -n 20 "$work"/slurm/slurm-*.log >&2; exit 1
fi
"$xtask" verify "$work/slurm"
"$xtask" experiment gtsrb "${tiny[@]}" --out "$work/local" > /dev/null
python3 tools/same-results.py "$work/local" "$work/slurm"

read -r -a ids <<<"$(submit "$work/cancelled")"
scancel "${ids[0]}"
wait_for "${ids[@]}"
if states "${ids[@]:1}" | grep -v 'JobState=CANCELLED'; then
  echo "a job waiting on the cancelled training did not end cancelled" >&2; exit 1
fi
echo "slurm: the chain completed, verified and matched the local run; a cancelled stage cancelled the rest"
