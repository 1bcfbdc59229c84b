r"""Writes a benchmark server's submission from a results folder: GOT-10k test or TrackingNet.

  python -m bin.submission --benchmark=got10k_test --dataset_dir=D --results_dir=R \
      [--output=O] [--frame_seconds=S]
  python -m bin.submission --benchmark=trackingnet --dataset_dir=D --results_dir=R [--run=1]

Reads the benchmark's sequences (``tsn_jax.evaluation.layouts``) for their frame counts, checks
every result file (``<seq>.txt`` or ``<seq>_001.txt``, ...) against them, and writes the
server's files into ``--output`` and the zip to upload beside it, ``<output>.zip``
(``tsn_jax.evaluation.submission``).
"""

from absl import app, flags

from tsn_jax.evaluation import layouts, submission

from . import dataset_flags, errors, flagfiles

_RESULTS_DIR = flags.DEFINE_string(
    "results_dir", None, "A folder of OTB-format result files (<seq>.txt or <seq>_001.txt ...)."
)
_OUTPUT = flags.DEFINE_string(
    "output",
    None,
    "The submission folder; the zip goes beside it as <output>.zip. Default: "
    "<results_dir>_<benchmark>_submission.",
)
_FRAME_SECONDS = flags.DEFINE_float(
    "frame_seconds",
    None,
    "GOT-10k: seconds per frame written for runs that <results_dir>/timings.json does not "
    "time (results of other trackers).",
)
_RUN = flags.DEFINE_integer(
    "run", None, "TrackingNet: the run to submit when a sequence has several (<seq>_00k.txt)."
)


def write(
    benchmark_name, dataset_dir, results_dir, output, names=None, frame_seconds=None, run=None
):
    """Writes the submission of ``benchmark_name`` -> ``submission.Submission``.

    Raises:
      app.UsageError: the benchmark has no server submission.
      datasets.DatasetError: a sequence of the benchmark cannot be read.
      submission.SubmissionError: the results do not make a submission.
    """
    benchmark = layouts.BENCHMARKS[benchmark_name]
    if benchmark.submission is None:
        with_server = [b.name for b in layouts.BENCHMARKS.values() if b.submission]
        raise app.UsageError(
            f"--benchmark={benchmark_name} is scored locally (python -m bin.evaluate); "
            f"submissions: {', '.join(with_server)}"
        )
    sources = layouts.sources(dataset_dir, benchmark_name, names)
    frame_counts = {source.name: len(source.load()) for source in sources}
    if benchmark.submission == "got10k":
        return submission.write_got10k(results_dir, frame_counts, output, frame_seconds)
    return submission.write_trackingnet(results_dir, frame_counts, output, run)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    benchmark = dataset_flags.BENCHMARK.value
    results_dir = _RESULTS_DIR.value.rstrip("/")
    written = write(
        benchmark,
        dataset_flags.DATASET_DIR.value,
        results_dir,
        _OUTPUT.value or f"{results_dir}_{benchmark}_submission",
        dataset_flags.SEQUENCES.value,
        _FRAME_SECONDS.value,
        _RUN.value,
    )
    runs = sum(written.runs.values())
    print(f"{len(written.runs)} sequences, {runs} runs -> {written.folder}")
    print(f"upload {written.zip_path}")


def run() -> None:
    """The submission command; ``python -m bin.submission`` from a checkout."""
    flags.mark_flags_as_required(["benchmark", "dataset_dir", "results_dir"])
    errors.run(main, flagfiles.parse_flags, input_errors=(submission.SubmissionError,))


if __name__ == "__main__":
    run()
