"""TSN as a got10k toolkit tracker: ``got10k.trackers.Tracker`` over ``tsn_jax.Tracker``.

The got10k toolkit (``pip install got10k``) runs its experiments (GOT-10k, OTB, UAV123, NfS,
TColor128, DTB70, VOT) through a tracker object's ``init(image, box)`` / ``update(image) ->
box``, with PIL images and boxes as its annotation files hold them::

  from got10k.experiments import ExperimentGOT10k
  tracker = TSNTracker(tsn_jax.load_weights(path), tsn_jax.TrackerConfig())
  ExperimentGOT10k("data/GOT-10k", subset="val").run(tracker)

got10k hands the first box over unchanged from its annotation file and compares the returned
boxes with that file, so the adapter works in the file's convention: ``box_origin=0`` for
0-based boxes (GOT-10k), ``box_origin=1`` for 1-based ones (OTB, UAV123, ...). Inside, boxes
are 0-based frame pixels (``tsn_jax.boxes``).
"""

import numpy as np
import numpy.typing as npt
from got10k.trackers import Tracker as Got10kTracker
from PIL import Image

from tsn_jax import boxes, stateful
from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib


def to_frame(image: Image.Image | npt.ArrayLike) -> np.ndarray:
    """uint8 [H, W, 3] RGB frame of a PIL image (any mode) or an RGB array."""
    if isinstance(image, Image.Image):
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, np.uint8))


class TSNTracker(Got10kTracker):
    """got10k's tracker interface over ``tsn_jax.Tracker`` (deterministic for a given seed)."""

    def __init__(
        self,
        weights: weights_lib.FeatureNetWeights,
        config: config_lib.TrackerConfig,
        seed: int = 0,
        name: str = "TSN",
        box_origin: int = 0,
    ) -> None:
        """Wraps a ``tsn_jax.Tracker`` of these weights, config and seed.

        Args:
          weights: Feature Net weights (``tsn_jax.load_weights``).
          config: the TrackerConfig.
          seed: PRNG seed of every sequence.
          name: the tracker's name (got10k's result folder).
          box_origin: 0 or 1, the origin of the boxes got10k passes and expects back.

        Raises:
          ValueError: ``box_origin`` is neither 0 nor 1.
        """
        if box_origin not in (0, 1):
            raise ValueError(f"box_origin must be 0 or 1, got {box_origin!r}")
        super().__init__(name=name, is_deterministic=True)
        self.tracker = stateful.Tracker(weights, config, seed=seed)
        self.box_origin = box_origin

    def init(self, image: Image.Image | npt.ArrayLike, box: npt.ArrayLike) -> None:
        """Starts tracking ``box`` ([4] x, y, w, h at ``box_origin``) in ``image``."""
        box = np.asarray(box, np.float64)
        if self.box_origin == 1:
            box = boxes.from_one_based(box)
        self.tracker.init(to_frame(image), box)

    def update(self, image: Image.Image | npt.ArrayLike) -> np.ndarray:
        """[4] float64 box (x, y, w, h at ``box_origin``) of the target in ``image``."""
        box = self.tracker.update(to_frame(image))
        return boxes.to_one_based(box) if self.box_origin == 1 else box
