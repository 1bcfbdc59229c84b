"""Several runs: the runner's run files (``<seq>_001.txt`` ..., seeds ``seed .. seed + N - 1``,
each file resumable on its own) with a stand-in tracker, and the reporter's mean ± std over the
runs, checked against float64 NumPy written here from the OTB definitions."""

import json
import types

import jax
import numpy as np
import pytest

from tsn_jax import config as config_lib
from tsn_jax.evaluation import boxfiles, datasets, report, runner

BOX = np.array([4.0, 3.0, 8.0, 6.0])  # 0-based
GT = np.array([[5, 5, 10, 8], [6, 5, 10, 8], [8, 6, 10, 8], [9, 7, 11, 9]], np.float64)


def _seeded_tracker(seeds):
    """A stand-in for tsn_jax.tracker that records each sequence's seed and answers the initial
    box shifted right by the seed in every frame after the first (so that every run writes other
    boxes; row 0 of a result file is the initial box itself)."""

    def init(weights, frame, box_xywh, key, config):
        del weights, frame, config
        seed = int(jax.random.key_data(key)[-1])
        seeds.append(seed)
        return np.asarray(box_xywh, np.float32) + np.float32([seed, 0, 0, 0])

    def step(weights, state, frame, fine_tune=None):
        del weights, frame, fine_tune
        output = types.SimpleNamespace(
            box_xywh=state,
            score=np.float32(1.0),
            failed=np.bool_(False),
            tuple_slots=np.zeros(3, np.int32),
            tuple_coefficients=np.zeros(3, np.float32),
        )
        return state, output

    return types.SimpleNamespace(init=init, step=step, fine_tune_due=lambda index, config: False)


def _rendered(name, num_frames, broken_at=None):
    def render(i):
        if i == broken_at:
            raise datasets.DatasetError(f"{name}: frame {i} cannot be read")
        return np.zeros((16, 24, 3), np.uint8)

    return datasets.Sequence.from_render(name, num_frames, render, init_box_xywh=BOX)


def test_run_names():
    assert runner.run_name("Jogging-1", 1, 1) == "Jogging-1"  # one run: the file as ever
    assert runner.run_name("Jogging-1", 2, 3) == "Jogging-1_002"
    for run, runs in ((0, 3), (4, 3), (1, 1000)):
        with pytest.raises(ValueError, match="runs are numbered"):
            runner.run_name("a", run, runs)


def test_runs_write_one_file_per_run_with_its_seed_and_resume_per_file(monkeypatch, tmp_path):
    seeds = []
    monkeypatch.setattr(runner, "tracker", _seeded_tracker(seeds))
    config = config_lib.TrackerConfig()
    sequences = [_rendered("a", 3), datasets.SequenceSource("b", lambda: _rendered("b", 2))]
    timings = runner.track_all(None, sequences, config, tmp_path, seed=5, runs=3, progress=False)
    assert seeds == [5, 5, 6, 6, 7, 7]  # run after run, seed + run - 1
    names = ["a_001", "a_002", "a_003", "b_001", "b_002", "b_003"]
    assert sorted(p.stem for p in tmp_path.glob("*.txt")) == names
    assert sorted(timings) == names
    for run, seed in ((1, 5), (2, 6), (3, 7)):
        np.testing.assert_allclose(
            boxfiles.read_boxes(tmp_path / f"a_{run:03d}.txt"), [BOX, *[BOX + [seed, 0, 0, 0]] * 2]
        )
    # A rerun tracks only the missing run file, with that run's seed.
    (tmp_path / "a_002.txt").unlink()
    seeds.clear()
    runner.track_all(None, sequences, config, tmp_path, seed=5, runs=3, progress=False)
    assert seeds == [6]
    np.testing.assert_allclose(
        boxfiles.read_boxes(tmp_path / "a_002.txt"), [BOX, *[BOX + [6, 0, 0, 0]] * 2]
    )
    # One run keeps <name>.txt.
    runner.track_all(None, sequences[:1], config, tmp_path / "one", progress=False)
    assert [p.name for p in (tmp_path / "one").glob("*.txt")] == ["a.txt"]
    with pytest.raises(ValueError, match="runs must be in 1..999"):
        runner.track_all(None, sequences, config, tmp_path, runs=0)


def test_a_failed_run_is_listed_by_its_run_name_and_the_others_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "tracker", _seeded_tracker([]))
    sequences = [_rendered("good", 3), _rendered("bad", 4, broken_at=2)]
    with pytest.raises(runner.SequencesFailed) as raised:
        runner.track_all(
            None, sequences, config_lib.TrackerConfig(), tmp_path, runs=2, progress=False
        )
    assert list(raised.value.failures) == ["bad_001", "bad_002"]
    assert raised.value.failures["bad_002"] == "bad: frame 2 cannot be read"
    assert sorted(raised.value.timings) == ["good_001", "good_002"]


# ---------------------------------------------------------------------------------------------
# The reporter over runs.


def _otb_reference(predicted, groundtruth):
    """(AUC, precision@20) of one sequence from the OTB definitions, float64."""
    p, g = predicted, groundtruth
    iw = np.clip(
        np.minimum(p[:, 0] + p[:, 2], g[:, 0] + g[:, 2]) - np.maximum(p[:, 0], g[:, 0]), 0, None
    )
    ih = np.clip(
        np.minimum(p[:, 1] + p[:, 3], g[:, 1] + g[:, 3]) - np.maximum(p[:, 1], g[:, 1]), 0, None
    )
    inter = iw * ih
    iou = inter / (p[:, 2] * p[:, 3] + g[:, 2] * g[:, 3] - inter)
    error = np.hypot(
        p[:, 0] + p[:, 2] / 2 - g[:, 0] - g[:, 2] / 2, p[:, 1] + p[:, 3] / 2 - g[:, 1] - g[:, 3] / 2
    )
    auc = np.mean([np.mean(iou > t) for t in np.linspace(0, 1, 21)])
    return auc, np.mean(error <= 20)


def _sequence(name):
    return datasets.Sequence.from_render(
        name, len(GT), lambda i: np.zeros((32, 48, 3), np.uint8), GT
    )


# Per run and sequence: the x shift of the boxes written (pixels).
SHIFTS = {1: {"a": 0.0, "b": 2.0}, 2: {"a": 3.0, "b": 1.0}, 3: {"a": 6.5, "b": 25.0}}


def _run_folder(folder, shifts=SHIFTS):
    for run, by_sequence in shifts.items():
        for name, shift in by_sequence.items():
            result = runner.TrackResult(
                GT + [shift, 0, 0, 0],
                np.ones(len(GT), np.float32),
                np.zeros(len(GT), bool),
                1.0,
                np.array([5.0, 1.0, 1.0]),
            )
            runner.save_result(folder, runner.run_name(name, run, len(shifts)), result)
    return folder


def _strict(path):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_mean_and_std_over_runs_against_numpy(tmp_path):
    folder = _run_folder(tmp_path / "tsn")
    table = report.report({"TSN": folder}, [_sequence("a"), _sequence("b")])
    scores = table["TSN"]
    reference = {  # run -> [(auc, prec20) per sequence]
        run: [_otb_reference(GT + [s, 0, 0, 0], GT) for s in by_sequence.values()]
        for run, by_sequence in SHIFTS.items()
    }
    run_auc = np.array([np.mean([r[0] for r in reference[run]]) for run in SHIFTS])
    run_precision = np.array([np.mean([r[1] for r in reference[run]]) for run in SHIFTS])
    assert [r.run for r in scores.runs] == [1, 2, 3]
    np.testing.assert_allclose([r.overall.auc for r in scores.runs], run_auc, rtol=0, atol=1e-12)
    mean, std = scores.figure("auc")
    assert mean == pytest.approx(run_auc.mean(), abs=1e-12)
    assert std == pytest.approx(np.std(run_auc, ddof=1), abs=1e-12)
    assert std > 0.01  # the runs differ: the spread is not a rounding artefact
    assert scores.figure("precision20")[1] == pytest.approx(
        np.std(run_precision, ddof=1), abs=1e-12
    )
    # A sequence's row is its mean over the runs.
    b_auc = np.mean([reference[run][1][0] for run in SHIFTS])
    assert scores.sequences["b"].auc == pytest.approx(b_auc, abs=1e-12)
    assert scores.sequences["b"].num_frames == len(GT)
    assert scores.fps == pytest.approx(1.0)  # 6 files x 2 steady steps of 1 s

    summary = _strict(folder / "summary.json")
    assert summary["runs"] == 3 and summary["metric"] == "otb"
    assert summary["mean"]["auc"] == pytest.approx(run_auc.mean(), abs=1e-12)
    assert summary["std"]["auc"] == pytest.approx(np.std(run_auc, ddof=1), abs=1e-12)
    assert [r["run"] for r in summary["per_run"]] == [1, 2, 3]
    assert summary["per_run"][2]["overall"]["auc"] == pytest.approx(run_auc[2], abs=1e-12)
    assert list(summary["per_run"][0]["sequences"]) == ["a", "b"]

    text = report.format_report(table).splitlines()
    overall = next(line for line in text if line.startswith("overall"))
    assert f"{run_auc.mean():.3f} ± {np.std(run_auc, ddof=1):.3f}" in overall
    assert any(line.startswith("3 runs: sequences show their mean") for line in text)


def test_one_run_has_no_spread(tmp_path):
    folder = _run_folder(tmp_path / "one", {1: SHIFTS[1]})
    assert sorted(p.name for p in folder.glob("*.txt")) == ["a.txt", "b.txt"]
    scores = report.report({"one": folder}, [_sequence("a"), _sequence("b")])["one"]
    mean, std = scores.figure("auc")
    assert mean == scores.overall.auc and np.isnan(std)
    summary = _strict(folder / "summary.json")
    assert summary["runs"] == 1 and summary["std"]["auc"] is None
    assert "±" not in report.format_report({"one": scores})


def test_a_sequence_lacking_a_run_or_with_both_forms_is_not_scored(tmp_path):
    folder = _run_folder(tmp_path / "tsn")
    (folder / "b_003.txt").unlink()
    boxfiles.write_boxes(folder / "c.txt", GT)
    boxfiles.write_boxes(folder / "c_001.txt", GT)
    table = report.report({"TSN": folder}, [_sequence("a"), _sequence("b"), _sequence("c")])
    assert list(table["TSN"].sequences) == ["a"]
    assert table["TSN"].unscored == {
        "c": f"{folder}: both c.txt and c_NNN.txt run files; keep one form (c.txt is the single "
        "run of --runs=1; rename it c_001.txt to count it as run 1)",
        "b": f"{folder}: b has 2 of the folder's 3 runs (no b_003.txt); a sequence is scored "
        "with all the runs or not at all",
    }
    # fps pools the scored sequence's run files only: a's three.
    assert table["TSN"].fps == pytest.approx(1.0)


def test_runs_beside_single_run_folders_in_one_ranked_table(tmp_path):
    runs = _run_folder(tmp_path / "tsn")
    single = _run_folder(tmp_path / "peer", {1: {"a": 1.0, "b": 1.0}})
    (single / "timings.json").unlink()  # raw results of another tracker
    table = report.report(
        {"TSN": runs, "peer": single}, [_sequence("a"), _sequence("b")], tmp_path / "cmp"
    )
    lines = report.format_report(table).splitlines()
    assert lines[0].split() == ["tracker", "runs", "AUC", "prec@20", "OP50", "CLE", "fps"]
    ranked = [line.split()[0] for line in lines[1:3]]
    aucs = {name: table[name].figure("auc")[0] for name in table}
    assert ranked == sorted(aucs, key=lambda n: -aucs[n])
    peer = next(line for line in lines if line.startswith("peer"))
    assert peer.split()[1] == "1" and peer.split()[-1] == "-" and "±" not in peer
    saved = _strict(tmp_path / "cmp" / "benchmark.json")
    assert saved["peer"]["fps"] is None and saved["TSN"]["runs"] == 3
    for png in ("success_plot.png", "precision_plot.png"):
        assert (tmp_path / "cmp" / png).stat().st_size > 1000
    # One curve per tracker: the runs' mean, its legend with the spread.
    legends = report.write_plots(table, tmp_path / "again")
    mean, std = table["TSN"].figure("auc")
    assert f"TSN [{mean:.3f} ± {std:.3f}]" in legends["success_plot.png"]
    assert f"peer [{table['peer'].overall.auc:.3f}]" in legends["success_plot.png"]
    assert len(legends["precision_plot.png"]) == 2
