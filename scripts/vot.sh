#!/usr/bin/env bash
# The official VOT toolkit around TSN (bin/vot_trax.py, the TraX server).
#
#   bash scripts/vot.sh toolkit              the toolkit's own venv (.cache/vot/venv, from
#                                            configs/vot/requirements.txt) and the vot extra
#                                            (vot-trax) in the tracker's venv
#   bash scripts/vot.sh workspace DIR [STACK]
#                                            a VOT workspace: DIR/trackers.ini from
#                                            configs/vot/trackers.ini, then `vot initialize
#                                            STACK` (downloads the stack's sequences)
#   bash scripts/vot.sh test                 `vot test TSN` on the toolkit's generated dummy
#                                            sequence in a temporary workspace (no download),
#                                            `vot evaluate` / `vot analysis` on a one-sequence
#                                            stack of it, then the cross-check tests
#                                            (tests/vot_test.py, tests/vot_trax_test.py)
#
# Environment: VENV (the tracker's venv, default .venv), VOT_VENV (the toolkit's, default
# .cache/vot/venv), PYTHON (creates VOT_VENV, default python3), TSN_WEIGHTS (the weights;
# without them `test` runs random weights), VOT_FLAGS (bin.vot_trax's flags, default
# --flagfile=configs/otb.flags, the paper's settings).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$repo/.venv}"
vot_venv="${VOT_VENV:-$repo/.cache/vot/venv}"
flags="${VOT_FLAGS:---flagfile=$repo/configs/otb.flags}"

toolkit() {
  if [ ! -x "$venv/bin/python" ]; then
    echo "scripts/vot.sh: no tracker venv at $venv (run make venv first)" >&2
    exit 1
  fi
  "$venv/bin/python" -m pip install --quiet -e "$repo[vot]"
  if [ ! -f "$vot_venv/.installed" ] || [ "$repo/configs/vot/requirements.txt" -nt "$vot_venv/.installed" ]; then
    "${PYTHON:-python3}" -m venv "$vot_venv"
    "$vot_venv/bin/python" -m pip install --quiet --upgrade pip
    "$vot_venv/bin/python" -m pip install --quiet -r "$repo/configs/vot/requirements.txt"
    touch "$vot_venv/.installed"
  fi
}

# trackers.ini for DIR from the template; extra flags (e.g. --allow_random_weights) after DIR.
write_trackers_ini() {
  local dir="$1"
  shift
  local all_flags="$flags${*:+ $*}"
  mkdir -p "$dir"
  sed -e "s|@PYTHON@|$venv/bin/python|g" -e "s|@REPO@|$repo|g" -e "s|@FLAGS@|$all_flags|g" \
    "$repo/configs/vot/trackers.ini" >"$dir/trackers.ini"
  echo "wrote $dir/trackers.ini (command: $venv/bin/python -m bin.vot_trax $all_flags)"
}

workspace() {
  local dir="${1:?usage: scripts/vot.sh workspace DIR [STACK]}"
  toolkit
  write_trackers_ini "$dir"
  if [ -n "${2:-}" ]; then
    "$vot_venv/bin/vot" initialize "$2" --workspace "$dir"
  fi
  echo "next: cd $dir && $vot_venv/bin/vot test TSN && $vot_venv/bin/vot evaluate TSN" \
    "&& $vot_venv/bin/vot analysis TSN"
}

# `vot evaluate` and `vot analysis` in workspace DIR (its trackers.ini written) on a stack of
# one sequence, the toolkit's generated dummy: the supervised experiment (a reset 5 frames after
# each failure) and its A, R and EAO analyses, without a download. Prints A, R and EAO.
evaluate_dummy() {
  local dir="$1"
  mkdir -p "$dir/sequences"
  "$vot_venv/bin/python" - "$dir/sequences/dummy" <<'PY'
import os, shutil, sys, tempfile
from vot.dataset.dummy import generate_dummy
generate_dummy(50)
shutil.copytree(os.path.join(tempfile.gettempdir(), "vot_dummy_50_640_480_1"), sys.argv[1])
PY
  echo dummy >"$dir/sequences/list.txt"
  printf 'stack: stack.yaml\nregistry:\n- ./trackers.ini\n' >"$dir/config.yaml"
  cat >"$dir/stack.yaml" <<'YAML'
title: TSN on the toolkit's dummy sequence
experiments:
  baseline:
    type: supervised
    repetitions: 1
    skip_initialize: 5
    analyses:
      - type: supervised_average_ar
        sensitivity: 30
      - type: supervised_eao_score
        low: 1
        high: 40
YAML
  "$vot_venv/bin/vot" evaluate --workspace "$dir" TSN 2>&1 | tee "$dir/evaluate.log"
  grep -q "Evaluation concluded successfuly" "$dir/evaluate.log"
  "$vot_venv/bin/vot" analysis --workspace "$dir" --name dummy TSN
  "$vot_venv/bin/python" - "$dir/analysis/dummy.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]["baseline"]["results"]
(accuracy, failures, _, frames), = results[0]
(eao,), = results[1]
print(f"vot analysis on the dummy sequence: A {accuracy:.3f}, R {failures:g} failures "
      f"in {frames:g} frames, EAO(1..40) {eao:.3f}")
PY
}

vot_test() {
  toolkit
  local random=()
  if [ -z "${TSN_WEIGHTS:-}" ]; then
    echo "TSN_WEIGHTS is unset: vot test runs with random Feature Net weights"
    random=(--allow_random_weights)
  fi
  local dir log
  dir="$(mktemp -d)"
  log="$dir/vot_test.log"
  write_trackers_ini "$dir" "${random[@]}"
  local start=$SECONDS
  # The toolkit exits 0 even when the tracker fails; its closing line is the verdict.
  (cd "$dir" && "$vot_venv/bin/vot" test TSN) 2>&1 | tee "$log"
  if ! grep -q "Test concluded successfuly" "$log"; then
    echo "scripts/vot.sh: vot test TSN failed (log: $log)" >&2
    exit 1
  fi
  echo "vot test TSN passed in $((SECONDS - start)) s"
  start=$SECONDS
  evaluate_dummy "$dir"
  echo "vot evaluate and vot analysis passed in $((SECONDS - start)) s"
  rm -rf "$dir"
  TSN_VOT_PYTHON="$vot_venv/bin/python" "$venv/bin/python" -m pytest -q \
    "$repo/tests/vot_test.py" "$repo/tests/vot_trax_test.py"
}

case "${1:-}" in
  toolkit) toolkit ;;
  workspace) shift; workspace "$@" ;;
  test) vot_test ;;
  *)
    echo "usage: scripts/vot.sh toolkit | workspace DIR [STACK] | test" >&2
    exit 2
    ;;
esac
