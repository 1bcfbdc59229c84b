"""The VOT toolkit's own A, R and EAO of raw result files; run with the toolkit's Python.

  $VOT_PYTHON tests/vot_toolkit_measures.py spec.json  ->  JSON on stdout

The toolkit (vot-toolkit, in its own venv: scripts/vot.sh toolkit) cannot be imported by the
tracker's environment, so tests/vot_test.py runs this in a subprocess. ``spec.json`` holds
``{"burnin": 10, "interval": [lo, hi], "sequences": [{"name", "size": [W, H],
"groundtruth": [[x, y, w, h], ...], "trajectory": path}]}``; the trajectory files are read by
the toolkit's reader and scored by its supervised-experiment analyses (``AccuracyRobustness``,
``AverageAccuracyRobustness``, ``EAOCurve``), with ``EAOScore``'s mean over the interval.
"""

import json
import sys

import numpy as np
from vot.analysis.supervised import AccuracyRobustness, AverageAccuracyRobustness, EAOCurve
from vot.region import Rectangle
from vot.region.io import read_trajectory


class Sequence:
    """What the analyses read of a sequence: its length, size and ground truth."""

    def __init__(self, name, size, groundtruth):
        self.name = name
        self.size = tuple(size)
        self._groundtruth = [Rectangle(*box) for box in groundtruth]

    def groundtruth(self, index=None):
        return self._groundtruth if index is None else self._groundtruth[index]

    def __len__(self):
        return len(self._groundtruth)


class Trajectory:
    def __init__(self, regions):
        self._regions = regions

    def regions(self):
        return self._regions


class Experiment:
    """``gather(tracker, sequence)``: the one trajectory of each sequence."""

    def __init__(self, trajectories):
        self.trajectories = trajectories

    def gather(self, tracker, sequence):
        return [self.trajectories[sequence.name]]


def main(spec_path):
    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    sequences = [Sequence(s["name"], s["size"], s["groundtruth"]) for s in spec["sequences"]]
    experiment = Experiment(
        {s["name"]: Trajectory(read_trajectory(s["trajectory"])) for s in spec["sequences"]}
    )
    per_sequence = AccuracyRobustness(burnin=spec["burnin"])
    results = [per_sequence.subcompute(experiment, None, s, []) for s in sequences]
    accuracy, robustness, _, _ = AverageAccuracyRobustness().aggregate(None, sequences, results)
    (curve,) = EAOCurve(burnin=spec["burnin"]).subcompute(experiment, None, sequences, [])
    low, high = spec["interval"]
    json.dump(
        {
            "accuracy": float(accuracy),
            "robustness": float(robustness),
            "eao": float(np.mean(curve[low : high + 1])),  # EAOScore.compute
            "curve": [float(v) for v in curve],
            "per_sequence": [[float(a), float(f)] for a, f, _, _ in results],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
