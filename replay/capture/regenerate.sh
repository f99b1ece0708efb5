#!/usr/bin/env bash
# Regenerate the committed traces under traces/ from real distributed releases.
#
#   bash replay/capture/regenerate.sh [RELEASE ...]     (default: all four)
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

release_2024_2_1() {
  venv 2024.2.1 "$PY311" "distributed==2024.2.1" "dask==2024.2.1" "numpy<2" "pandas<2.3" "pyarrow<16" msgpack pyyaml
  cap 2024.2.1 seed seed --no-validate
  cap 2024.2.1 seed seed-validate --validate
  cap 2024.2.1 mapreduce mapreduce
}

release_2024_3_0() {
  venv 2024.3.0 "$PY311" "distributed==2024.3.0" "dask==2024.3.0" "numpy<2" "pandas<2.3" "pyarrow<16" msgpack pyyaml
  cap 2024.3.0 seed seed --no-validate
  cap 2024.3.0 seed seed-validate --validate
  cap 2024.3.0 mapreduce mapreduce
}

release_newest() {
  venv "$NEWEST" "$PY311" "distributed==$NEWEST" numpy msgpack pyyaml
  cap "$NEWEST" seed seed
  cap "$NEWEST" mapreduce mapreduce
  cap "$NEWEST" mapreduce mapreduce-2
  for s in task-raises worker-lost queuing-on queuing-off large-graph stealing retries restart truncated; do
    cap "$NEWEST" "$s" "$s"
  done
  cap "$NEWEST" benchmark-large benchmark-large
}

release_2022_5_0() {
  venv 2022.5.0 "$PY310" "distributed==2022.5.0" "dask==2022.5.0" "tornado<6.3" "numpy<2" msgpack pyyaml
  cap 2022.5.0 mapreduce mapreduce
  cap 2022.5.0 task-raises task-raises
}

release_2021_12_0() {
  venv 2021.12.0 "$PY310" "distributed==2021.12.0" "dask==2021.12.0" "tornado<6.3" "numpy<2" msgpack pyyaml
  cap 2021.12.0 mapreduce mapreduce
  cap 2021.12.0 task-raises task-raises
}

if [ "$#" -eq 0 ]; then set -- 2024.2.1 2024.3.0 "$NEWEST" 2022.5.0 2021.12.0; fi
for rel in "$@"; do
  case "$rel" in
    2024.2.1) release_2024_2_1 ;;
    2024.3.0) release_2024_3_0 ;;
    2022.5.0) release_2022_5_0 ;;
    2021.12.0) release_2021_12_0 ;;
    "$NEWEST") release_newest ;;
    *) echo "unknown release $rel" >&2; exit 2 ;;
  esac
done
