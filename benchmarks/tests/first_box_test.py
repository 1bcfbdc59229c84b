"""Tests of benchmarks/first_box.py on tracker_test's tiny config and frame size (the compiled
programs come from the persistent cache the other tests fill), CPU."""

import jax
import pytest

from benchmarks import first_box
from tests import cli
from tests.tracker_test import SMALL
from tsn_jax import tracker
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import runner, synthetic

NUM_FRAMES = 5  # SMALL fine-tunes every 2nd frame: frames 2 and 4


@pytest.fixture(scope="module")
def rows():
    weights = weights_lib.random_weights("vgg16", jax.random.key(0))
    sequence = synthetic.make_sequence(num_frames=NUM_FRAMES, frame_size_wh=(96, 80), seed=0)
    return {
        ahead: first_box.measure(weights, sequence, SMALL, seed=0, compile_ahead=ahead)
        for ahead in (True, False)
    }


@pytest.mark.parametrize("ahead", [True, False])
def test_every_frame_is_stamped(rows, ahead):
    row = rows[ahead]
    assert row["compile"] == ("ahead" if ahead else "on_first_call")
    assert row["frames"] == NUM_FRAMES and len(row["frame_s"]) == NUM_FRAMES - 1
    assert all(s > 0 for s in row["frame_s"])
    assert row["fine_tune_frames"] == [2, 4]
    assert row["first_fine_tune_s"] == row["frame_s"][1]  # frame 2
    # The first box comes after the compilation and the first frame's training.
    assert row["first_box_s"] > row["compile_seconds"] + row["init_seconds"]
    assert row["fps"] > 0 and row["frame_ms_p90"] >= row["frame_ms_p50"] > 0
    assert f"({NUM_FRAMES} frames, compiled {row['compile']}): first box after" in (
        first_box.format_row(row)
    )


def test_compiled_ahead_or_on_first_call(rows):
    assert rows[True]["compile_seconds"] > 0  # init and both steps, before the second frame
    assert rows[False]["compile_seconds"] == 0  # jax.jit compiles inside init and the steps
    assert runner.tracker is tracker  # the runner's tracker is restored


def test_first_box_rejects_bad_flags():
    done = cli.run_module("benchmarks.first_box", "--first_box_compile=later")
    assert done.returncode != 0
    assert "first_box_compile" in done.stderr
