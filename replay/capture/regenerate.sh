#!/usr/bin/env bash
# Regenerate the committed traces under traces/ from real distributed releases.
#
#   bash replay/capture/regenerate.sh [RELEASE ... | bugs]   (default: every release, then the bugs)
#
# Each release gets its own virtualenv under $VENVS (default /work/venvs), outside
# the repository. Captures take ~1-2 min per release, plus a few minutes for
# benchmark-large on the newest release.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENVS="${VENVS:-/work/venvs}"
PY311="${PY311:-python3.11}"
PY310="${PY310:-/root/.pyenv/versions/3.10.13/bin/python}"
NEWEST="${NEWEST:-2026.8.0}"

venv() {  # venv NAME PYTHON PIP-REQUIREMENTS...
  local name="$1" py="$2"; shift 2
  if [ ! -x "$VENVS/d$name/bin/python" ]; then
    "$py" -m venv "$VENVS/d$name"
    "$VENVS/d$name/bin/pip" install -q "$@"
  fi
}

cap() {  # cap RELEASE SCENARIO DIRNAME [capture options...]
  local rel="$1" scn="$2" dir="$3"; shift 3
  echo "== $rel $scn -> traces/$rel/$dir"
  ( cd "$ROOT" && PYTHONPATH="$ROOT" "$VENVS/d$rel/bin/python" -m replay.capture "$scn" \
      --out "traces/$rel/$dir" "$@" > "/tmp/capture-$rel-$dir.log" 2>&1 ) \
    || echo "   (exit code $?; see /tmp/capture-$rel-$dir.log and meta.json)"
}

release_2024() {  # release_2024 RELEASE: the seed bug's release and its fix
  local rel="$1"
  venv "$rel" "$PY311" "distributed==$rel" "dask==$rel" "numpy<2" "pandas<2.3" "pyarrow<16" msgpack pyyaml
  cap "$rel" seed seed --no-validate
  cap "$rel" seed seed-validate --validate
  cap "$rel" mapreduce mapreduce
}

release_newest() {
  venv "$NEWEST" "$PY311" "distributed==$NEWEST" numpy msgpack pyyaml
  cap "$NEWEST" seed seed
  cap "$NEWEST" mapreduce mapreduce
  cap "$NEWEST" mapreduce mapreduce-2
  for s in task-raises worker-lost actor-lost queuing-on queuing-off large-graph stealing retries restart truncated; do
    cap "$NEWEST" "$s" "$s"
  done
  cap "$NEWEST" benchmark-large benchmark-large
  cap "$NEWEST" large-table large-table
}

release_old() {  # release_old RELEASE: stringified keys, Python 3.10
  local rel="$1"
  venv "$rel" "$PY310" "distributed==$rel" "dask==$rel" "tornado<6.3" "numpy<2" msgpack pyyaml
  cap "$rel" mapreduce mapreduce
  cap "$rel" task-raises task-raises
}

bug() {  # bug SCENARIO RELEASE...: the scenario on each release, validate off and on
  local scn="$1"; shift
  # set iteration order follows the hash seed: fix it, so a capture repeats its entry order
  local PYTHONHASHSEED=0
  export PYTHONHASHSEED
  for rel in "$@"; do
    case "$rel" in
      2022.*) venv "$rel" "$PY310" "distributed==$rel" "dask==$rel" "tornado<6.3" "numpy<2" msgpack pyyaml ;;
      "$NEWEST") venv "$rel" "$PY311" "distributed==$rel" numpy msgpack pyyaml ;;
      *) venv "$rel" "$PY311" "distributed==$rel" "dask==$rel" "numpy<2" "pandas<2.3" "pyarrow<16" msgpack pyyaml ;;
    esac
    cap "$rel" "$scn" "$scn" --no-validate
    cap "$rel" "$scn" "$scn-validate" --validate
  done
}

known_bugs() {  # each on its last buggy and first fixed release (traces/README.md)
  bug bug-7205 2022.10.2 2022.11.0
  bug bug-7348 2022.11.1 2022.12.0
  bug bug-7354 2022.11.1 2022.12.0
  bug bug-7354-retry 2022.11.1 2022.12.0 "$NEWEST"
  bug bug-7402 2022.12.0 2022.12.1
  bug bug-8703 2024.6.0 2024.6.1
  bug bug-8764 2024.7.0 2024.7.1
  bug bug-9068 2025.4.1 2025.5.0
  bug bug-9067 2025.4.1 2025.5.0
  for rel in 2025.4.1 2025.5.0; do cap "$rel" actor-lost actor-lost; done  # #9067's clean neighbour
  worker_bug wbug-6916 2022.8.1 2022.9.0
  worker_bug wbug-6676 2022.7.0 2022.7.1
  worker_bug wbug-6914 2022.8.0 2022.8.1
  worker_bug wbug-6673 2022.6.1 2022.7.0
}

worker_bug() {  # worker_bug SCENARIO RELEASE...: with scheduler and worker validation, as dask's tests run
  local scn="$1"; shift
  local PYTHONHASHSEED=0
  export PYTHONHASHSEED
  for rel in "$@"; do
    venv "$rel" "$PY310" "distributed==$rel" "dask==$rel" "tornado<6.3" "numpy<2" msgpack pyyaml
    cap "$rel" "$scn" "$scn" --validate
  done
}

if [ "$#" -eq 0 ]; then set -- 2024.2.1 2024.3.0 "$NEWEST" 2022.5.0 2021.12.0 bugs; fi
for rel in "$@"; do
  case "$rel" in
    2024.2.1 | 2024.3.0) release_2024 "$rel" ;;
    2022.5.0 | 2021.12.0) release_old "$rel" ;;
    "$NEWEST") release_newest ;;
    bugs) known_bugs ;;
    *) echo "unknown release $rel" >&2; exit 2 ;;
  esac
done
