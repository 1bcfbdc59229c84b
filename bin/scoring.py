"""How the commands score results: the metric ``--benchmark`` asks for, and what to say for a
benchmark that only its server can score (shared by bin.track, bin.evaluate, bin.benchmark)."""

from tsn_jax.evaluation import layouts

from . import dataset_flags


def metric_from_flags() -> str:
    """``layouts.BENCHMARKS[--benchmark].metric`` (``"otb"``, ``"lasot"``, ``"got10k"`` or
    ``"server"``); ``"otb"`` without ``--benchmark``."""
    benchmark = dataset_flags.BENCHMARK.value
    return "otb" if benchmark is None else layouts.BENCHMARKS[benchmark].metric


def server_message(benchmark: str, dataset_dir: str, results_dir: str) -> str:
    """Why ``benchmark``'s results are not scored here, and the command that writes its
    submission."""
    return (
        f"--benchmark={benchmark} has no ground truth here: its server scores the results. "
        f"Write the submission with: python -m bin.submission --benchmark={benchmark} "
        f"--dataset_dir={dataset_dir} --results_dir={results_dir}"
    )
