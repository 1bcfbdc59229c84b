"""The host side of tsn_jax: sequences in, result files and scores out.

NumPy / OpenCV on the host; nothing here is jitted except through the tracker's public
``tsn_jax.init`` / ``tsn_jax.step`` (and ``batch``'s vmapped steps built from them). The core
(``tsn_jax.tracker`` and its leaf modules) never imports this package.

  datasets    OTB / VOT / video / image-folder sequences (lazy frames)
  synthetic   the generated demo / test sequence with exact ground truth
  boxfiles    box text files: ground truth and results (1-based on disk, atomic writes)
  tracked     TrackResult, the per-frame checks, timings.json, the definition of speed
  compiled    init and both steps compiled before tracking (no stall at a fine-tune)
  runner      track_all: one sequence at a time or batched, resumable, into a results folder
  batch       the batched driver: vmap over padded frames, masking, sharding
  peers       OpenCV CSRT / KCF on the same frames
  metrics     OTB one-pass evaluation (success, precision, OP50, CLE)
  report      result folders -> the table, summary.json, benchmark.json and plots
  plots       success / precision plots
  visualize   mp4 of a tracked sequence
  vot         VOT reset-based protocol (accuracy, robustness, EAO)
"""
