"""The dataset flags shared by bin/track, bin/benchmark and bin/evaluate (defined once)."""

from absl import flags

DATASET_DIR = flags.DEFINE_string(
    "dataset_dir", None, "An OTB-layout dataset root, one OTB sequence folder or a VOT folder."
)
SEQUENCES = flags.DEFINE_list("sequences", None, "Only these sequences of --dataset_dir.")
