"""The dataset flags shared by bin/track, bin/benchmark, bin/evaluate and bin/submission
(defined once)."""

from absl import flags

from tsn_jax.evaluation import layouts

DATASET_DIR = flags.DEFINE_string(
    "dataset_dir",
    None,
    "An OTB-layout dataset root, one OTB sequence folder or a VOT folder; with --benchmark, "
    "that benchmark's folder as downloaded.",
)
SEQUENCES = flags.DEFINE_list(
    "sequences",
    None,
    "Only these sequences of --dataset_dir (with --benchmark=otb100, a multi-target folder "
    "such as Jogging selects Jogging-1 and Jogging-2).",
)
BENCHMARK = flags.DEFINE_enum(
    "benchmark",
    None,
    list(layouts.BENCHMARKS),
    "Read --dataset_dir in this benchmark's own layout and sequence list: "
    + layouts.describe()
    + ". Without it, --dataset_dir is read as OTB / VOT folders.",
)
