"""benchmarks/size_probe.py: the oracle-size scoring on a synthetic sequence."""

import numpy as np

from benchmarks import size_probe
from tsn_jax.evaluation import boxfiles, synthetic


def test_oracle_sizes_restore_the_true_size(tmp_path, capsys):
    sequence = synthetic.make_sequence(num_frames=6, frame_size_wh=(96, 80), seed=0, name="s")
    truth = np.asarray(sequence.groundtruth_xywh, np.float64)
    centres = truth[:, :2] + truth[:, 2:] / 2
    small = truth[:, 2:] * 0.6  # right centres, boxes 0.6 of the size: IoU 0.36
    boxfiles.write_boxes(tmp_path / "s.txt", np.concatenate([centres - small / 2, small], 1))
    size_probe.oracle_sizes(tmp_path, [sequence])
    printed = capsys.readouterr().out
    assert "median true / tracked size 1.67" in printed
    assert "tracked: AUC 0.381" in printed  # IoU 0.36 > thresholds 0, 0.05, ..., 0.35
    # Exact boxes: IoU 1 passes 20 of the 21 thresholds (not "IoU > 1").
    assert "true size: AUC 0.952" in printed
    assert "one rescale: AUC 0.952" in printed
