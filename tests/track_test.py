"""bin/track.py end to end over a dataset folder with a broken sequence, interrupted by Ctrl-C and
resumed; the tracker is a stand-in (tests/stand_in_track.py), so nothing compiles and each run
takes seconds, its import mostly.
"""

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np

from tests import cli

GROUNDTRUTH = "5,5,10,8\n"  # 1-based x,y,w,h, the same in every frame


def _write_otb(root, name, num_frames):
    folder = root / name
    (folder / "img").mkdir(parents=True)
    for i in range(num_frames):
        frame = np.full((32, 48, 3), 7 * i % 255, np.uint8)
        assert cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.png"), frame)
    (folder / "groundtruth_rect.txt").write_text(GROUNDTRUTH * num_frames)
    return folder


def _start(dataset, output_dir, step_seconds):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.stand_in_track",
            f"--dataset_dir={dataset}",
            f"--output_dir={output_dir}",
            "--visualize",
            "--noprogress",
        ],
        cwd=cli.ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu", "STAND_IN_STEP_SECONDS": str(step_seconds)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tracked(output_dir):
    """The sequences in output_dir/timings.json (written whole, atomically), [] before it."""
    try:
        return list(json.loads((output_dir / "timings.json").read_text())["sequences"])
    except FileNotFoundError:
        return []


def test_a_broken_sequence_fails_alone_and_ctrl_c_keeps_finished_results(tmp_path):
    dataset = tmp_path / "dataset"
    _write_otb(dataset, "a", 3)
    broken = _write_otb(dataset, "a_broken", 3)
    (broken / "img" / "0002.png").write_bytes(b"")  # a zero-byte frame
    _write_otb(dataset, "b", 400)
    out = tmp_path / "out"

    # Each step takes 0.25 s: Ctrl-C while b (100 s) is tracked, once a is saved. The run must
    # stop at the frame in progress: tracking b to its end would outlast the 60 s wait below.
    run = _start(dataset, out, step_seconds=0.25)
    deadline = time.monotonic() + 120
    while "a" not in _tracked(out) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _tracked(out) == ["a"], run.communicate(timeout=60)
    run.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    stdout, stderr = run.communicate(timeout=60)
    print(f"exited {time.monotonic() - interrupted:.2f} s after SIGINT")
    assert run.returncode == 130, stderr
    assert "Interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "timings.json", "videos"]
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["a.mp4"]  # b's is removed
    assert _tracked(out) == ["a"]
    result_a = (out / "a.txt").read_text()
    assert result_a == "5.0000,5.0000,10.0000,8.0000\n" * 3  # the box kept, 1-based

    # The rerun skips a, tracks b, and lists the broken sequence at the end: exit status 4.
    run = _start(dataset, out, step_seconds=0)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 4, stderr
    assert "a: results exist" in stdout
    assert f"a_broken: not tracked: {broken / 'img' / '0002.png'} (frame 1)" in stdout
    rows = [line.split()[0] for line in stdout.splitlines() if line.startswith(("a ", "b "))]
    assert rows == ["a", "b"]  # the table scores the two tracked sequences
    assert stderr.splitlines()[-2:] == [
        "1 sequence(s) could not be tracked or scored:",
        f"  a_broken: {broken / 'img' / '0002.png'} (frame 1): frame file is empty (0 bytes)",
    ]
    assert "Traceback" not in stderr
    assert (out / "a.txt").read_text() == result_a
    assert sorted(_tracked(out)) == ["a", "b"]
    assert not list(out.rglob("*.tmp"))
