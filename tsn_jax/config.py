"""`TrackerConfig`: every size and hyperparameter of the tracker, static under jit.

Defaults are the paper's values where the paper gives one (section 4.1: 256 proposals, 5000
first-frame samples, B = 5, SGD with momentum 0.9, Spatial Net updated every frame, lambda =
1e-4 weight decay in Eq. 5) and the choices of docs/decisions.md where it is silent, with the
measurements behind them. One departs from the paper for speed: the Temporal Net is
fine-tuned every 3 frames by 4 steps, not every 10 frames (D46, D48, D50;
``temporal_update_interval=10 temporal_update_steps=30`` restores it).
"""

import dataclasses

FEATURE_NETS = ("vgg16", "vggm")
PROPOSAL_FEATURES = ("crop", "roi")
TEMPORAL_LOSSES = ("l1", "l2")


@dataclasses.dataclass(frozen=True)
class TrackerConfig:
    """Static tracker settings (hashable: passed to jit as a static argument).

    Sizes are in pixels of the Feature Net input unless they say otherwise; spreads of random
    boxes are in units of the target's mean side ``(w + h) / 2``.
    """

    # Feature Net and proposal features (docs/decisions.md D2, D3).
    feature_net: str = "vgg16"
    proposal_features: str = "roi"  # "crop": the paper's per-proposal crops; "roi": RoIAlign.
    crop_size: int = 107  # Per-proposal crop side (MDNet's 107 x 107 input).
    crop_target_size: int = 75  # Side of the box inside that crop (the rest is context).
    # roi mode: side of the search window fed to the Feature Net, and the side the box spans
    # in it (docs/decisions.md D44, D48; 155 and 57 before D48, 203 and 75 before D44).
    search_size: int = 139
    roi_target_size: int = 51
    # roi mode: "covering", the box scaled by search_size / roi_target_size per axis and widened
    # where that leaves a proposal's context region outside (docs/decisions.md D39); "aspect",
    # scaled only (the previous default).
    search_window: str = "covering"
    feature_grid: int = 3  # conv3 features pooled to grid x grid per box.
    compute_dtype: str = "float32"  # Feature Net arithmetic: "float32" or "bfloat16".

    # Proposals (Algorithm 1 step 3; spreads as MDNet's Gaussian sampler).
    num_proposals: int = 256
    proposal_translation_std: float = 0.3
    proposal_scale_std: float = 0.5  # log-scale std in units of log(scale_step).
    scale_step: float = 1.05
    failure_search_growth: float = 1.5  # Spread multiplier after each failed frame.
    max_search_growth: float = 3.0
    min_box_size: float = 4.0  # Boxes never shrink below this many frame pixels.

    # Tuple learning (paper 3.2.1, Eq. 1).
    # "lasso": Eq. 1, the last target coded over the pool before it is added; "recent": no
    # tuple learning (ablation), the K most recent targets.
    tuple_learning: str = "lasso"
    pool_capacity: int = 30
    lasso_lambda: float = 0.01
    lasso_method: str = "admm"  # "admm", "fista" or "ista" (sparse_coding.py)
    lasso_iterations: int = 50  # Enough for ADMM on real pools (docs/decisions.md).
    tuple_size: int = 3

    # Temporal Net (paper 3.2.2, Eq. 2).
    use_temporal: bool = True  # False: the paper's "no Temporal Net" ablation.
    temporal_hidden: int = 512
    temporal_dropout: float = 0.5
    temporal_loss: str = "l1"
    # First-frame label of a (tuple, proposal) pair: "target", the proposal's IoU with the
    # target (docs/decisions.md D10), or "pair", its IoU with the tuple's last member (paper 3.2.2).
    temporal_label: str = "target"
    temporal_learning_rate: float = 1e-3
    momentum: float = 0.9
    temporal_batch_size: int = 128
    num_init_samples: int = 5000
    init_chunk: int = 256  # First-frame samples per Feature Net call (bounds memory).
    temporal_init_steps: int = 300
    # First-frame minibatches draw this many tuples (at most temporal_batch_size), each shared
    # by ~batch / this samples; 0: a tuple per sample (docs/decisions.md D45).
    init_shared_tuples: int = 16
    # 4 SGD steps every 3 frames, with no frame stalled by a 30-step fine-tune every 10
    # frames (the paper's interval; docs/decisions.md D46, D48, D50).
    temporal_update_steps: int = 4
    temporal_update_interval: int = 3
    positive_iou: float = 0.7  # First-frame samples this close to the target form tuples.
    memory_frames: int = 20  # Frames of samples kept for the Temporal fine-tune.
    # A frame's fine-tune samples (paper 3.2.2: "generated from the estimated locations"): a
    # random subset of its proposals, labelled with their IoU with the tracked box.
    samples_per_frame: int = 64
    # Rows of the sample memory that keep first-frame samples for the whole sequence (never
    # overwritten), on top of the memory_frames x samples_per_frame ring of recent frames;
    # 0: the ring alone. 256 (4 frames' worth) measured in docs/decisions.md D12.
    first_frame_samples: int = 256

    # Spatial Net (paper 3.3, Eqs. 3-8).
    use_spatial: bool = True  # False: the paper's "no Spatial Net" ablation.
    top_candidates: int = 5  # B in Eq. 8.
    spatial_context: float = 2.0  # Window side / candidate side.
    spatial_window_size: int = 107  # crop mode: window crop side fed to the Feature Net.
    spatial_grid: int = 17  # Side G of the confidence map.
    spatial_features: tuple = (64, 32)
    spatial_sigma: float = 0.3  # Gaussian label sigma / target size (in grid units).
    spatial_learning_rate: float = 1e-2  # paper 3.3 (zeta of Eq. 6)
    spatial_clip_norm: float = 1.0  # global gradient-norm clip (spatial_net.make_optimizer)
    spatial_refine: str = "centroid"  # Eq. 7 peak: "argmax" (paper) or "centroid" (measured)
    spatial_min_peak: float = 0.1  # Maps peaking below this leave their candidate unrefined.
    spatial_loss: str = "bce"  # Eq. 5: "l2" (paper) or "bce" (measured: spatial_net.loss)
    spatial_weight_decay: float = 1e-4
    spatial_init_samples: int = 64
    spatial_init_steps: int = 100
    spatial_update_steps: int = 1  # SGD steps each frame (2 before, docs/decisions.md D47).
    spatial_batch_size: int = 16
    spatial_memory: int = 64
    # Rows of the Spatial Net's window memory that keep first-frame windows for the whole
    # sequence, on top of the spatial_memory ring; 0: the ring alone. 0 / 16 / 32 measured
    # in docs/decisions.md D19.
    first_frame_windows: int = 32

    # Bounding-box regression of the top candidates (not in the paper; box_regression.py).
    box_regression: bool = True
    box_regression_ridge: float = 1000.0  # MDNet's ridge strength.
    box_regression_min_iou: float = 0.6  # First-frame samples this close train it (MDNet).

    # Failure handling (docs/decisions.md D7, D38).
    failure_threshold: float = 0.3  # Best temporal similarity below this = failure.

    def __post_init__(self) -> None:
        _check_choice("feature_net", self.feature_net, FEATURE_NETS)
        _check_choice("proposal_features", self.proposal_features, PROPOSAL_FEATURES)
        _check_choice("temporal_loss", self.temporal_loss, TEMPORAL_LOSSES)
        _check_choice("temporal_label", self.temporal_label, ("target", "pair"))
        _check_choice("tuple_learning", self.tuple_learning, ("lasso", "recent"))
        _check_choice("lasso_method", self.lasso_method, ("admm", "fista", "ista"))
        _check_choice("spatial_refine", self.spatial_refine, ("argmax", "centroid"))
        _check_choice("spatial_loss", self.spatial_loss, ("l2", "bce"))
        _check_choice("compute_dtype", self.compute_dtype, ("float32", "bfloat16"))
        _check_choice("search_window", self.search_window, ("aspect", "covering"))
        positive = (
            "crop_size",
            "crop_target_size",
            "search_size",
            "roi_target_size",
            "feature_grid",
            "num_proposals",
            "pool_capacity",
            "lasso_iterations",
            "tuple_size",
            "temporal_hidden",
            "temporal_batch_size",
            "num_init_samples",
            "init_chunk",
            "temporal_update_interval",
            "memory_frames",
            "samples_per_frame",
            "top_candidates",
            "spatial_window_size",
            "spatial_grid",
            "spatial_init_samples",
            "spatial_memory",
            "spatial_batch_size",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"TrackerConfig.{name} must be positive, got {getattr(self, name)}"
                )
        if self.crop_target_size > self.crop_size:
            raise ValueError(
                f"crop_target_size={self.crop_target_size} exceeds crop_size={self.crop_size}"
            )
        if self.roi_target_size > self.search_size:
            raise ValueError(
                f"roi_target_size={self.roi_target_size} exceeds search_size={self.search_size}"
            )
        if self.init_shared_tuples < 0:
            raise ValueError(
                f"TrackerConfig.init_shared_tuples must be >= 0, got {self.init_shared_tuples}"
            )
        if self.top_candidates > self.num_proposals:
            raise ValueError(
                f"top_candidates={self.top_candidates} exceeds num_proposals={self.num_proposals}"
            )
        if self.samples_per_frame > self.num_proposals:
            raise ValueError(
                f"samples_per_frame={self.samples_per_frame} exceeds "
                f"num_proposals={self.num_proposals}"
            )
        # Kept rows are filled once, from the first frame's samples / windows: more kept rows
        # than those would stay empty for the whole sequence.
        kept = (
            ("first_frame_samples", "num_init_samples"),
            ("first_frame_windows", "spatial_init_samples"),
        )
        for name, source in kept:
            if not 0 <= getattr(self, name) <= getattr(self, source):
                raise ValueError(
                    f"TrackerConfig.{name} must be in [0, {source}={getattr(self, source)}], "
                    f"got {getattr(self, name)}"
                )
        if not 0.0 <= self.temporal_dropout < 1.0:
            raise ValueError(f"temporal_dropout must be in [0, 1), got {self.temporal_dropout}")
        if not 0.0 < self.positive_iou <= 1.0:
            raise ValueError(f"positive_iou must be in (0, 1], got {self.positive_iou}")
        if self.spatial_context < 1.0:
            raise ValueError(f"spatial_context must be >= 1, got {self.spatial_context}")
        if self.failure_search_growth < 1.0 or self.max_search_growth < 1.0:
            raise ValueError("failure_search_growth and max_search_growth must be >= 1")
        if not self.use_temporal and not self.use_spatial:
            # Without the Temporal Net the proposals have no scores; the Spatial Net then ranks
            # the proposals. Without both there is nothing left to track with.
            raise ValueError("use_temporal and use_spatial cannot both be False")
        if len(self.spatial_features) != 2:
            raise ValueError(f"spatial_features needs 2 widths, got {self.spatial_features}")

    @property
    def feature_size(self) -> int:
        """D: length of one proposal feature (conv3 channels x feature_grid^2)."""
        conv3_channels = {"vgg16": 256, "vggm": 512}[self.feature_net]
        return conv3_channels * self.feature_grid**2

    @property
    def window_memory_size(self) -> int:
        """Rows of the Spatial Net's window memory (first-frame rows included)."""
        return self.spatial_memory + self.first_frame_windows

    @property
    def memory_size(self) -> int:
        """Rows of the Temporal Net's sample memory (first-frame rows included)."""
        return self.memory_frames * self.samples_per_frame + self.first_frame_samples


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"TrackerConfig.{name}={value!r}: expected one of {choices}")
