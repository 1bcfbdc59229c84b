"""Tests for bin/vot_trax.py, the TraX server the VOT toolkit runs.

The request loop against a scripted server and tracker (no TraX library, no compilation), and
the real server process driven by vot-trax's own TraX client over its standard input and
output, as the toolkit drives it: its boxes are the runner's (the tiny config of tracker_test,
random weights; TraX carries 4 decimals of float32). The toolkit itself (`vot test TSN` on its
dummy sequence) runs in scripts/vot.sh test.
"""

import dataclasses
import os
import subprocess
import sys
import types

import cv2
import jax
import numpy as np
import pytest

from bin import vot_trax
from tests.cli import ROOT
from tests.tracker_test import SMALL
from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import runner, synthetic

NUM_FRAMES = 5


class Rect:
    """A TraX rectangle stand-in."""

    type = "rectangle"

    def __init__(self, x, y, w, h):
        self.xywh = (x, y, w, h)

    def bounds(self):
        return self.xywh


class Image:
    def __init__(self, path):
        self._path = path

    def path(self):
        return self._path


class ScriptedServer:
    """Serves the scripted requests ``(type, path, region)`` in order, records the replies."""

    def __init__(self, requests):
        self.requests = list(requests)
        self.replies = []

    def wait(self):
        kind, path, region = self.requests.pop(0)
        objects = [(region, {})] if region is not None else None
        image = {"color": Image(path)} if path is not None else {}
        return types.SimpleNamespace(type=kind, image=image, objects=objects)

    def status(self, objects):
        self.replies.append(objects)


class RecordingTracker:
    """Answers update ``n`` after an init with the init box shifted by ``n`` px in x."""

    def __init__(self):
        self.calls = []
        self.score = 0.5

    def init(self, frame, box):
        self.calls.append(("init", int(frame[0, 0, 0]), np.asarray(box).tolist()))
        self.box, self.count = np.asarray(box, np.float64), 0

    def update(self, frame):
        self.calls.append(("update", int(frame[0, 0, 0])))
        self.count += 1
        return self.box + [self.count, 0, 0, 0]


def _read(path):
    """The "frame" of path "f<k>": a 2x2 frame of value k."""
    return np.full((2, 2, 3), int(path[1:]), np.uint8)


def test_serve_answers_initialize_and_frames_until_quit():
    server = ScriptedServer(
        [
            ("initialize", "f0", Rect(3, 4, 10, 20)),
            ("frame", "f1", None),
            ("frame", "f2", None),
            ("initialize", "f3", Rect(7, 8, 5, 6)),  # re-initialised after a failure
            ("frame", "f4", None),
            ("quit", None, None),
        ]
    )
    tracker = RecordingTracker()
    answered = vot_trax.serve(server, tracker, Rect, read_frame=_read)
    assert answered == 5
    assert tracker.calls == [
        ("init", 0, [3, 4, 10, 20]),
        ("update", 1),
        ("update", 2),
        ("init", 3, [7, 8, 5, 6]),
        ("update", 4),
    ]
    boxes = [reply[0][0].xywh for reply in server.replies]
    assert boxes == [(3, 4, 10, 20), (4, 4, 10, 20), (5, 4, 10, 20), (7, 8, 5, 6), (8, 8, 5, 6)]
    confidences = [reply[0][1]["confidence"] for reply in server.replies]
    assert confidences == ["1.000000", "0.500000", "0.500000", "1.000000", "0.500000"]


@pytest.mark.parametrize(
    "requests, message",
    [
        ([("frame", "f1", None)], "TraX frame request 1: a frame before any initialize"),
        ([("initialize", "f0", None)], "TraX initialize request 1: no target region"),
        ([("initialize", None, Rect(1, 1, 2, 2))], "holds no colour image"),
        (
            [("initialize", "f0", types.SimpleNamespace(type="polygon"))],
            "is a polygon, not a rectangle",
        ),
    ],
)
def test_serve_names_a_request_it_cannot_answer(requests, message):
    with pytest.raises(vot_trax.TraxSessionError, match=message):
        vot_trax.serve(ScriptedServer(requests), RecordingTracker(), Rect, read_frame=_read)


def _config_flags(config):
    """Command-line flags that give ``config`` (the fields that differ from the defaults)."""
    default = config_lib.TrackerConfig()
    flags = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value == getattr(default, field.name):
            continue
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = str(value).lower()
        flags.append(f"--{field.name}={value}")
    return flags


def test_the_server_process_answers_vot_trax_client_with_the_runners_boxes(tmp_path):
    trax = pytest.importorskip("trax", reason="the vot extra (vot-trax) is not installed")
    if not hasattr(trax, "Server"):
        pytest.skip("the installed 'trax' is not vot-trax")
    from trax.client import Client

    sequence = synthetic.make_sequence(num_frames=NUM_FRAMES, frame_size_wh=(96, 80), seed=0)
    # --allow_random_weights draws the weights from the seed (bin.track.resolve_weights).
    weights = weights_lib.random_weights("vgg16", jax.random.key(2))
    expected = runner.track_sequence(weights, sequence, SMALL, seed=2, progress=False)
    paths = []
    for index in range(NUM_FRAMES):
        path = tmp_path / f"{index:04d}.png"
        assert cv2.imwrite(str(path), sequence.frame(index)[..., ::-1])
        paths.append(str(path))

    command = [
        sys.executable,
        "-m",
        "bin.vot_trax",
        "--allow_random_weights",
        "--seed=2",
        *_config_flags(SMALL),
    ]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "TSN_WEIGHTS": ""}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        log = []  # the TraX messages, kept for a failure's traceback
        client = Client(stream=(process.stdin.fileno(), process.stdout.fileno()), log=log.append)
        assert client.tracker_name == "TSN"
        box = [float(v) for v in sequence.init_box_xywh]
        first = {"color": trax.FileImage.create(paths[0])}
        objects, _ = client.initialize(first, [(trax.Rectangle.create(*box), {})], {})
        served = [objects[0][0].bounds()]
        for path in paths[1:]:
            objects, _ = client.frame({"color": trax.FileImage.create(path)}, {}, [])
            served.append(objects[0][0].bounds())
            assert 0.0 <= float(objects[0][1]["confidence"]) <= 1.0
        client.quit()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    np.testing.assert_allclose(served, expected.boxes_xywh, rtol=0, atol=1e-3)
