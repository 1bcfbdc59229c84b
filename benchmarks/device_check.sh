#!/usr/bin/env bash
# The lent-GPU measurements recorded in docs/results.md, in one script.
#
#   bash benchmarks/device_check.sh speed     # speed table (roi, crop) + batched throughput
#   bash benchmarks/device_check.sh variants  # roi latency under each line of $VARIANTS
#   bash benchmarks/device_check.sh accuracy  # python -m benchmarks.accuracy_runs, all sequences
#   bash benchmarks/device_check.sh sweep     # the runs of $SWEEP (a runs file), $PROCS at once
#
# Environment: DATA (OTB-layout folder, or several joined by ':'), WEIGHTS (Feature Net file),
# VARIANTS (lines "name|XLA_FLAGS|config flags" for `variants`; default below), EXTRA (config
# flags added to every run, comma-separated for accuracy, spaces for speed and variants: a
# tiny config for a dry run on a CPU), RUNS (accuracy runs, comma-separated),
# OUT (where logs, JSON and a tarball of result files go; default results/device), RESULTS
# (the accuracy runs' result folders; default results/benchmark), PYTHON.
# Each run is guarded by a timeout and its results are packed as soon as it ends, so a call
# cut short keeps what finished. The accuracy results go to $RESULTS/<name>/,
# where `python -m bin.benchmark --trackers=...` scores them next to CSRT and KCF.
set -u
OUT=${OUT:-results/device}
PY=${PYTHON:-python3}
WEIGHTS=${WEIGHTS:-weights/vgg16_imagenet.npz}
RESULTS=${RESULTS:-results/benchmark}
export PYTHONPATH=. PYTHONUNBUFFERED=1
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-/tmp/tsn_jax_cache}
mkdir -p "$OUT"

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  $PY -c "import jax, jaxlib, flax, optax; print('jax', jax.__version__, 'jaxlib', jaxlib.__version__, 'flax', flax.__version__, 'optax', optax.__version__); print(jax.devices())"
} >>"$OUT/env.txt" 2>&1

speed() {
  # roi with batched throughput first, then crop (slower), each guarded on its own.
  timeout "${SPEED_TIMEOUT:-330}" $PY -m benchmarks.speed --demo \
    --weights="$WEIGHTS" --speed_frames=100 --speed_modes=roi --speed_batch_sizes=1,8,32 \
    --speed_growth_frames=100,300 --speed_trace_frames=20 --speed_output="$OUT/speed_roi.json" ${EXTRA:-} 2>&1 |
    grep -v "^W0\|^I0" | tee -a "$OUT/speed.log"
  timeout "${CROP_TIMEOUT:-150}" $PY -m benchmarks.speed --demo \
    --weights="$WEIGHTS" --speed_frames=100 --speed_modes=crop --speed_batch_sizes= \
    --speed_growth_frames=100,200 --speed_output="$OUT/speed_crop.json" ${EXTRA:-} 2>&1 |
    grep -v "^W0\|^I0" | tee -a "$OUT/speed.log"
}

# name | XLA_FLAGS | config flags: XLA's command buffers (CUDA graphs) with and without
# loops and conditionals (the roi step is a few ms of small kernels, 50 FISTA iterations
# and 30 fine-tune steps among them), and the bfloat16 Feature Net.
DEFAULT_VARIANTS='default||
graphs_loops|--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL --xla_gpu_graph_min_graph_size=1|
no_graphs|--xla_gpu_enable_command_buffer=|
bf16||--compute_dtype=bfloat16'

variants() {
  # Single-sequence roi latency, no stage breakdown (it compiles every stage: most of a call's
  # time), a 20-step trace each; one JSON and log per variant.
  while IFS='|' read -r name xla config; do
    [[ -z "$name" ]] && continue
    echo "== variant $name: XLA_FLAGS='$xla' $config" | tee -a "$OUT/variants.log"
    XLA_FLAGS="$xla" timeout "${VARIANT_TIMEOUT:-150}" $PY -m benchmarks.speed --demo \
      --weights="$WEIGHTS" --speed_frames=100 --speed_modes=roi --speed_batch_sizes= \
      --speed_growth_frames= --speed_stage_repeats=0 --speed_trace_frames=20 \
      --speed_output="$OUT/variant_$name.json" $config ${EXTRA:-} 2>&1 |
      grep -v "^W0\|^I0" | tee -a "$OUT/variants.log"
  done <<<"${VARIANTS:-$DEFAULT_VARIANTS}"
}

join_data() {
  # Joins the DATA folders into one (the sequences travel in parts; see WORKSPACE.md).
  local data=/tmp/tsn_data
  rm -rf "$data" && mkdir -p "$data"
  IFS=: read -ra parts <<<"${DATA:?set DATA to the sequences folder(s)}"
  for part in "${parts[@]}"; do
    for seq in "$part"/*/; do [[ -d "$seq" ]] && ln -sfn "$(realpath "$seq")" "$data/$(basename "$seq")"; done
  done
  echo "sequences: $(ls "$data" | wc -l)" | tee -a "$OUT/accuracy.log"
}

accuracy() {
  local data=/tmp/tsn_data
  join_data
  timeout "${ACC_TIMEOUT:-480}" $PY -m benchmarks.accuracy_runs --dataset_dir="$data" \
    --weights="$WEIGHTS" --runs_dir="$RESULTS" --runs="${RUNS:-tsn,no_temporal,no_spatial,l2,seed1,seed2,bf16,crop,no_box_regression,spatial_l2}" \
    ${EXTRA:+--extra_flags="$EXTRA"} 2>&1 | grep -v "^W0\|^I0" | tee -a "$OUT/accuracy.log"
  tar czf "$OUT/accuracy_results.tgz" -C "$(dirname "$RESULTS")" "$(basename "$RESULTS")"
}

sweep() {
  # The runs of $SWEEP split over $PROCS processes sharing the GPU (the roi step is
  # latency-bound: one process leaves it mostly idle), then one tarball of every run's results
  # (the device call returns only a few files: keep RESULTS outside OUT). Four processes ran
  # out of an H100's memory in the first frame; two fit.
  local data=/tmp/tsn_data procs=${PROCS:-2}
  join_data
  for ((i = 0; i < procs; i++)); do
    grep -v '^\s*\(#\|$\)' "${SWEEP:?set SWEEP to a runs file}" | awk -v p="$procs" -v i="$i" 'NR % p == i' >"$OUT/sweep_$i.txt"
    XLA_PYTHON_CLIENT_MEM_FRACTION=$(awk -v p="$procs" 'BEGIN { printf "%.2f", 0.9 / p }') \
      timeout "${SWEEP_TIMEOUT:-480}" $PY -m benchmarks.accuracy_runs --dataset_dir="$data" \
      --weights="$WEIGHTS" --runs_dir="$RESULTS" --runs_file="$OUT/sweep_$i.txt" \
      ${EXTRA:+--extra_flags="$EXTRA"} 2>&1 | grep -v "^W0\|^I0" >"$OUT/sweep_$i.log" &
  done
  wait
  cat "$OUT"/sweep_*.log
  tar czf "$OUT/sweep_results.tgz" -C "$(dirname "$RESULTS")" "$(basename "$RESULTS")"
}

for what in "$@"; do "$what"; done
