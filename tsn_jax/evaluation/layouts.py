"""The tracking benchmarks as they are downloaded, each read in its own folder layout.

``sources(root, benchmark, names)`` lists a benchmark's sequences as
:class:`datasets.SequenceSource` entries: a name and a zero-argument ``load()``. Listing reads
folder names and the small list files only, so a wrong root fails at once with what was
expected; each sequence is read when it is loaded, so a bad or missing sequence folder raises
there, with its path, while the others still load.

Layouts (``<root>`` is the ``--dataset_dir``; ground truth is 1-based ``x,y,w,h`` unless said
otherwise, read by ``boxfiles`` and stored 0-based, as everywhere in the project):

* ``otb100``, ``otb2013``, ``tb50``: ``<root>/<Seq>/img/0001.jpg`` and
  ``<Seq>/groundtruth_rect.txt``. The multi-target folders hold ``groundtruth_rect.1.txt`` and
  ``groundtruth_rect.2.txt`` instead: each non-empty one is a sequence ``<Seq>-1``,
  ``<Seq>-2`` (Jogging, Skating2; Human4's single target keeps the folder's name). The
  start-frame quirks are ``datasets.OTB_FRAME_RANGES``; the subsets are
  ``benchmark_lists.OTB100`` / ``OTB2013`` / ``TB50``.
* ``uav123``, ``uav20l``: ``<root>/data_seq/UAV123/<folder>/000001.jpg`` and
  ``<root>/anno/UAV123/<seq>.txt`` (``anno/UAV20L/``); a sequence is a frame range of its folder
  (``benchmark_lists.UAV123``). ``NaN`` rows (target out of view) are kept.
* ``uav123_10fps``: the same under ``data_seq/UAV123_10fps/`` and ``anno/UAV123_10fps/``.
* ``lasot``: the 280 test sequences, ``<root>/<class>/<class>-N/img/00000001.jpg`` (or
  ``<root>/<class>-N/``) with ``groundtruth.txt``, ``full_occlusion.txt`` and
  ``out_of_view.txt`` (one line of 0/1 flags); a frame is visible when neither flag is set.
* ``got10k_val``, ``got10k_test``: ``<root>/val/list.txt`` and
  ``<root>/val/GOT-10k_Val_000001/00000001.jpg`` with ``groundtruth.txt`` and ``cover.label``
  (visible: cover > 0, as the GOT-10k toolkit scores); ``test/`` likewise, its
  ``groundtruth.txt`` holding the first frame's box only. ``<root>`` may be ``val/`` itself.
* ``nfs30``: ``<root>/<seq>/30/<seq>/00001.jpg`` and ``<root>/<seq>/30/<seq>.txt``, whose rows
  are ``id xmin ymin xmax ymax frame lost occluded generated "label"``; annotations made at
  240 fps are taken every 8th row, and a one-row length difference is cut, as the got10k
  toolkit does.
* ``tc128``: ``<root>/<Seq>/img/0001.jpg``, ``<Seq>_gt.txt`` and ``<Seq>_frames.txt`` (the
  ``first,last`` frames the ground truth covers).
* ``dtb70``: ``<root>/<Seq>/img/00001.jpg`` and ``groundtruth_rect.txt``.
* ``trackingnet``: ``<root>/TEST/frames/<seq>/0.jpg`` and ``<root>/TEST/anno/<seq>.txt`` (the
  first frame's box only); ``<root>`` may be ``TEST/`` itself.

Sequences of LaSOT and GOT-10k val are :class:`BenchmarkSequence` instances whose
``target_visible`` holds the per-frame flags their metrics need
(``metrics.evaluate_lasot_sequence``, ``metrics.got10k_frame_ious``); :func:`target_visible`
reads it from any sequence.
"""

import dataclasses
import functools
import os
import pathlib
import re
from collections.abc import Callable, Iterable

import numpy as np

from tsn_jax import boxes
from tsn_jax.evaluation import benchmark_lists, boxfiles, datasets

DatasetError = datasets.DatasetError


# The layouts, as the messages and --help state them.
_OTB_LAYOUT = (
    "<root>/<Seq>/img/0001.jpg + <Seq>/groundtruth_rect.txt (or groundtruth_rect.1.txt, .2.txt)"
)
_LASOT_LAYOUT = (
    "<root>/<class>/<class>-N/img/00000001.jpg + groundtruth.txt, full_occlusion.txt, "
    "out_of_view.txt"
)
_GOT10K_VAL_LAYOUT = (
    "<root>/val/list.txt + <root>/val/<seq>/00000001.jpg, groundtruth.txt, cover.label"
)
_GOT10K_TEST_LAYOUT = "<root>/test/list.txt + <root>/test/<seq>/00000001.jpg, groundtruth.txt"
_NFS_LAYOUT = "<root>/<seq>/30/<seq>/00001.jpg + <root>/<seq>/30/<seq>.txt"
_TC128_LAYOUT = "<root>/<Seq>/img/0001.jpg + <Seq>_gt.txt, <Seq>_frames.txt"
_DTB70_LAYOUT = "<root>/<Seq>/img/00001.jpg + groundtruth_rect.txt"
_TRACKINGNET_LAYOUT = "<root>/TEST/frames/<seq>/0.jpg + <root>/TEST/anno/<seq>.txt"


class BenchmarkSequence(datasets.Sequence):
    """A :class:`datasets.Sequence` with the benchmark's per-frame target flags.

    Attributes:
      target_visible: [T] bool, False where the benchmark marks the target absent (LaSOT: full
        occlusion or out of view; GOT-10k: cover 0); None when the benchmark has no flags.
    """

    target_visible: np.ndarray | None = None


def target_visible(sequence: datasets.Sequence) -> np.ndarray | None:
    """The [T] bool visibility flags of a benchmark sequence, None when it has none."""
    return getattr(sequence, "target_visible", None)


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One benchmark: how to list its sequences and how it is scored.

    Attributes:
      name: the registry key (``--benchmark``).
      description: one line for ``--help``.
      layout: the folder layout ``<root>`` must have, for messages.
      metric: ``"otb"`` (success and precision), ``"lasot"`` (the same with absent frames as
        failures, plus normalised precision), ``"got10k"`` (AO, SR0.5, SR0.75) or ``"server"``
        (no ground truth: the results go to the benchmark's server).
      submission: the server's format for ``bin.submission`` (``"got10k"``,
        ``"trackingnet"``), or None.
      list_sources: ``root -> [(source, group)]``; ``group`` is the folder a ``names`` entry may
        also select (an OTB multi-target folder selects its targets).
    """

    name: str
    description: str
    layout: str
    metric: str
    submission: str | None
    list_sources: Callable[[pathlib.Path], list[tuple[datasets.SequenceSource, str]]]


# ---------------------------------------------------------------------------------------------
# Shared pieces.


def _natural_key(path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _image_files(folder):
    """Image files directly in ``folder``, naturally sorted (2.jpg before 10.jpg)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: frame folder is missing")
    paths = [
        p for p in folder.iterdir() if p.suffix.lower() in datasets.IMAGE_SUFFIXES and p.is_file()
    ]
    if not paths:
        raise DatasetError(f"{folder}: no {'/'.join(datasets.IMAGE_SUFFIXES)} frames")
    return sorted(paths, key=_natural_key)


def _frames_in_range(folder, first, last):
    """The frames numbered ``first..last`` (1-based inclusive, by file name) in ``folder``.

    Raises:
      DatasetError: a frame of the range is missing (the first missing number is named).
    """
    numbered = {}
    for path in _image_files(folder):
        if path.stem.isdigit():
            numbered[int(path.stem)] = path
    missing = [n for n in range(first, last + 1) if n not in numbered]
    if missing:
        raise DatasetError(
            f"{folder}: frame {missing[0]} of the range {first}..{last} is missing "
            f"({len(missing)} missing in all)"
        )
    return [numbered[n] for n in range(first, last + 1)]


def _rows(path, lengths=(4,), kind="ground-truth"):
    """``boxfiles.read_rows`` with its error as a DatasetError."""
    try:
        return boxfiles.read_rows(path, lengths, kind=kind)
    except boxfiles.BoxFileError as error:
        raise DatasetError(str(error)) from None


def _check_first_box(box_xywh, where):
    """Raises DatasetError unless the 0-based first box can start tracking; the message shows
    it 1-based, as the file holds it, and says which condition failed."""
    datasets.validate_init_box(boxes.to_one_based(box_xywh), None, where, one_based=True)


def _annotated(name, frames, rows_one_based, gt_path, visible=None):
    """A sequence over ``frames`` with one ground-truth row per frame (1-based on disk)."""
    if len(rows_one_based) != len(frames):
        raise DatasetError(
            f"{gt_path}: {len(rows_one_based)} ground-truth rows but {len(frames)} frames"
        )
    groundtruth = boxes.from_one_based(rows_one_based)
    _check_first_box(groundtruth[0], f"{gt_path}:1")
    sequence = BenchmarkSequence.from_image_paths(name, frames, groundtruth)
    if visible is not None:
        sequence.target_visible = visible
    return sequence


def _first_box_only(name, frames, gt_path):
    """A sequence whose ground-truth file holds the first frame's box only (a test split).

    A file with one row per frame is read as full ground truth.
    """
    rows = _rows(gt_path)
    if len(rows) == len(frames) and len(rows) > 1:
        return _annotated(name, frames, rows, gt_path)
    if len(rows) != 1:
        raise DatasetError(
            f"{gt_path}: {len(rows)} rows; expected the first frame's box only, or one row "
            f"per frame ({len(frames)})"
        )
    init_box = boxes.from_one_based(rows[0])
    _check_first_box(init_box, f"{gt_path}:1")
    return BenchmarkSequence.from_image_paths(name, frames, None, init_box)


def _labels(path, num_frames, per_line):
    """[T] float64 labels >= 0 (0/1 flags or counts): one line of T values, or T lines of one."""
    lengths = (1,) if per_line else (num_frames,)
    values = _rows(path, lengths, kind="label")
    values = values.reshape(-1)
    if len(values) != num_frames:
        raise DatasetError(f"{path}: {len(values)} labels for {num_frames} frames")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        bad = int(np.flatnonzero(~(np.isfinite(values) & (values >= 0)))[0])
        raise DatasetError(f"{path}: label {values[bad]} of frame {bad + 1} is not a count >= 0")
    return values


def _source(name, load, *args):
    return datasets.SequenceSource(name, functools.partial(load, *args))


def _subfolders(root):
    """The visible subfolders of ``root``, naturally sorted."""
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))),
        key=_natural_key,
    )


def _need_dir(path, benchmark, layout):
    if not path.is_dir():
        raise DatasetError(f"{path}: missing; a {benchmark} root is laid out as {layout}")


# ---------------------------------------------------------------------------------------------
# OTB-100 / OTB-2013 / TB-50.

_NUMBERED_GT = re.compile(r"^groundtruth_rect\.(\d+)\.txt$")
# The folders holding two targets, so that a missing one still lists both (and fails to load).
_OTB_TWO_TARGETS = ("Jogging", "Skating2")


def _otb_targets(folder):
    """[(name, ground-truth file)] of one OTB folder: ``<Seq>-k`` per non-empty
    ``groundtruth_rect.k.txt``, or the folder's own name for a single file."""
    numbered = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NUMBERED_GT.match(path.name)
            if match and path.is_file() and path.read_text(errors="replace").strip():
                numbered.append((int(match.group(1)), path))
    numbered.sort()
    if not folder.is_dir() and folder.name in _OTB_TWO_TARGETS:
        return [(f"{folder.name}-{k}", None) for k in (1, 2)]
    if len(numbered) > 1:
        return [(f"{folder.name}-{k}", path) for k, path in numbered]
    if len(numbered) == 1 and not (folder / "groundtruth_rect.txt").is_file():
        return [(folder.name, numbered[0][1])]
    return [(folder.name, None)]


def _load_otb(folder, name, groundtruth_file):
    return datasets.load_otb_sequence(folder, name, groundtruth_file=groundtruth_file)


def _otb_lister(benchmark, folders):
    def list_sources(root):
        if not any((root / folder).is_dir() for folder in folders):
            raise DatasetError(
                f"{root}: none of the {len(folders)} {benchmark} folders ({folders[0]}, "
                f"{folders[1]}, ...) is here; expected {_OTB_LAYOUT}"
            )
        found = []
        for folder in sorted(folders, key=str.lower):
            for name, gt_file in _otb_targets(root / folder):
                found.append((_source(name, _load_otb, root / folder, name, gt_file), folder))
        return found

    return list_sources


# ---------------------------------------------------------------------------------------------
# UAV123 / UAV20L / UAV123@10fps.


def _load_uav(frames_folder, gt_path, name, first, last):
    rows = _rows(gt_path)
    return _annotated(name, _frames_in_range(frames_folder, first, last), rows, gt_path)


def _uav_lister(benchmark, table, frames_dir, anno_dir, layout):
    def list_sources(root):
        _need_dir(root / frames_dir, benchmark, layout)
        _need_dir(root / anno_dir, benchmark, layout)
        listed = []
        for name, (folder, first, last) in table.items():
            gt_path = root / anno_dir / f"{name}.txt"
            load = functools.partial(
                _load_uav, root / frames_dir / folder, gt_path, name, first, last
            )
            listed.append((datasets.SequenceSource(name, load), name))
        return listed

    return list_sources


# ---------------------------------------------------------------------------------------------
# LaSOT.


def _lasot_folder(root, name):
    nested = root / name.rsplit("-", 1)[0] / name
    return nested if nested.is_dir() or not (root / name).is_dir() else root / name


def _load_lasot(folder, name):
    if not folder.is_dir():
        raise DatasetError(f"{folder}: sequence folder is missing ({_LASOT_LAYOUT})")
    frames = _image_files(folder / "img")
    gt_path = folder / "groundtruth.txt"
    rows = _rows(gt_path)
    occluded = _labels(folder / "full_occlusion.txt", len(frames), per_line=False)
    out_of_view = _labels(folder / "out_of_view.txt", len(frames), per_line=False)
    visible = (occluded == 0) & (out_of_view == 0)
    return _annotated(name, frames, rows, gt_path, visible)


def _lasot_sources(root):
    folders = {name: _lasot_folder(root, name) for name in benchmark_lists.LASOT_TEST}
    if not any(folder.is_dir() for folder in folders.values()):
        raise DatasetError(
            f"{root}: none of the 280 LaSOT test sequences (airplane-1, ...) is here; "
            f"expected {_LASOT_LAYOUT}"
        )
    return [(_source(name, _load_lasot, folder, name), name) for name, folder in folders.items()]


# ---------------------------------------------------------------------------------------------
# GOT-10k.


def _got10k_subset(root, subset):
    for folder in (root / subset, root):
        if (folder / "list.txt").is_file():
            return folder
    raise DatasetError(
        f"{root}: no {subset}/list.txt; a GOT-10k root holds {subset}/list.txt and "
        f"{subset}/<sequence>/00000001.jpg + groundtruth.txt (or give the {subset} folder itself)"
    )


def _list_file(path):
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"{path}: the sequence list is empty")
    return names


def _load_got10k_val(folder, name):
    if not folder.is_dir():
        raise DatasetError(f"{folder}: sequence folder is missing")
    frames = _image_files(folder)
    cover = _labels(folder / "cover.label", len(frames), per_line=True)
    gt_path = folder / "groundtruth.txt"
    return _annotated(name, frames, _rows(gt_path), gt_path, cover > 0)


def _load_first_box_only(folder, gt_path, name):
    if not folder.is_dir():
        raise DatasetError(f"{folder}: sequence folder is missing")
    return _first_box_only(name, _image_files(folder), gt_path)


def _got10k_lister(subset):
    def list_sources(root):
        folder = _got10k_subset(root, subset)
        if subset == "val":
            load = _load_got10k_val
            return [(_source(n, load, folder / n, n), n) for n in _list_file(folder / "list.txt")]
        return [
            (_source(n, _load_first_box_only, folder / n, folder / n / "groundtruth.txt", n), n)
            for n in _list_file(folder / "list.txt")
        ]

    return list_sources


# ---------------------------------------------------------------------------------------------
# NfS (30 fps), TC128, DTB70, TrackingNet.


def _read_nfs_rows(path):
    """[N, 4] 1-based xywh of an NfS annotation file (``id xmin ymin xmax ymax ...`` rows).

    NfS lines end with a quoted label, which ``boxfiles`` does not read.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: ground-truth file not found")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            x0, y0, x1, y1 = (float(v) for v in fields[1:5])
        except ValueError:
            raise DatasetError(
                f"{path}:{number}: expected 'id xmin ymin xmax ymax ...', got {line!r}"
            ) from None
        rows.append([x0, y0, x1 - x0, y1 - y0])
    if not rows:
        raise DatasetError(f"{path}: the file holds no boxes")
    return np.asarray(rows, np.float64)


def _load_nfs(folder, name):
    base = folder / "30"
    frames = _image_files(base / name)
    gt_path = base / f"{name}.txt"
    rows = _read_nfs_rows(gt_path)
    if len(rows) != len(frames) and abs(len(rows) / len(frames) - 8) < 1:
        rows = rows[::8]  # annotated at 240 fps
    if abs(len(rows) - len(frames)) == 1:
        count = min(len(rows), len(frames))
        rows, frames = rows[:count], frames[:count]
    return _annotated(name, frames, rows, gt_path)


def _load_tc128(folder, name):
    if not folder.is_dir():
        raise DatasetError(f"{folder}: sequence folder is missing")
    gt_files = sorted(folder.glob("*_gt.txt"))
    range_files = sorted(folder.glob("*_frames.txt"))
    if len(gt_files) != 1 or len(range_files) != 1:
        raise DatasetError(
            f"{folder}: expected one <Seq>_gt.txt and one <Seq>_frames.txt, found "
            f"{[p.name for p in gt_files + range_files] or 'neither'}"
        )
    first, last = (int(v) for v in _rows(range_files[0], (2,), kind="frame-range")[0])
    return datasets.load_otb_sequence(folder, name, (first, last), groundtruth_file=gt_files[0])


def _load_dtb70(folder, name):
    return datasets.load_otb_sequence(folder, name)


def _folder_lister(benchmark, layout, load, looks_right):
    """Every visible subfolder of ``<root>`` is a sequence (a broken one fails when loaded)."""

    def list_sources(root):
        folders = _subfolders(root)
        if not any(looks_right(f) for f in folders):
            raise DatasetError(f"{root}: no {benchmark} sequence here; expected {layout}")
        return [(_source(f.name, load, f, f.name), f.name) for f in folders]

    return list_sources


def _trackingnet_sources(root):
    layout = _TRACKINGNET_LAYOUT
    in_root = (root / "anno").is_dir() and not (root / "TEST").is_dir()
    test = root if in_root else root / "TEST"
    _need_dir(test / "anno", "trackingnet", layout)
    _need_dir(test / "frames", "trackingnet", layout)
    names = sorted(p.stem for p in (test / "anno").glob("*.txt"))
    if not names:
        raise DatasetError(f"{test / 'anno'}: no <seq>.txt annotation files; expected {layout}")
    return [
        (_source(n, _load_first_box_only, test / "frames" / n, test / "anno" / f"{n}.txt", n), n)
        for n in names
    ]


# ---------------------------------------------------------------------------------------------
# The registry.


def _otb(name, description, folders):
    return Benchmark(name, description, _OTB_LAYOUT, "otb", None, _otb_lister(name, folders))


def _uav(name, description, table, frames, anno):
    layout = f"<root>/{frames}/<folder>/000001.jpg + <root>/{anno}/<seq>.txt"
    lister = _uav_lister(name, table, frames, anno, layout)
    return Benchmark(name, description, layout, "otb", None, lister)


def _in_folders(name, description, layout, load, looks_right):
    lister = _folder_lister(name, layout, load, looks_right)
    return Benchmark(name, description, layout, "otb", None, lister)


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        _otb("otb100", "OTB-100 (TB-100), 100 targets", benchmark_lists.OTB100),
        _otb("otb2013", "OTB-2013, 51 targets", benchmark_lists.OTB2013),
        _otb("tb50", "TB-50, the harder half of OTB-100, 50 targets", benchmark_lists.TB50),
        _uav(
            "uav123",
            "UAV123, 123 aerial sequences",
            benchmark_lists.UAV123,
            "data_seq/UAV123",
            "anno/UAV123",
        ),
        _uav(
            "uav20l",
            "UAV20L, 20 long aerial sequences",
            benchmark_lists.UAV20L,
            "data_seq/UAV123",
            "anno/UAV20L",
        ),
        _uav(
            "uav123_10fps",
            "UAV123@10fps, UAV123 at a third of the frame rate",
            benchmark_lists.UAV123_10FPS,
            "data_seq/UAV123_10fps",
            "anno/UAV123_10fps",
        ),
        Benchmark(
            "lasot", "LaSOT test split, 280 sequences", _LASOT_LAYOUT, "lasot", None, _lasot_sources
        ),
        Benchmark(
            "got10k_val",
            "GOT-10k validation, 180 sequences",
            _GOT10K_VAL_LAYOUT,
            "got10k",
            None,
            _got10k_lister("val"),
        ),
        Benchmark(
            "got10k_test",
            "GOT-10k test, 180 sequences, scored by its server",
            _GOT10K_TEST_LAYOUT,
            "server",
            "got10k",
            _got10k_lister("test"),
        ),
        _in_folders(
            "nfs30",
            "NfS at 30 fps, 100 sequences",
            _NFS_LAYOUT,
            _load_nfs,
            lambda folder: (folder / "30").is_dir(),
        ),
        _in_folders(
            "tc128",
            "Temple Color 128",
            _TC128_LAYOUT,
            _load_tc128,
            lambda folder: any(folder.glob("*_gt.txt")),
        ),
        _in_folders(
            "dtb70",
            "DTB70, 70 drone sequences",
            _DTB70_LAYOUT,
            _load_dtb70,
            lambda folder: (folder / "img").is_dir(),
        ),
        Benchmark(
            "trackingnet",
            "TrackingNet test, 511 sequences, scored by its server",
            _TRACKINGNET_LAYOUT,
            "server",
            "trackingnet",
            _trackingnet_sources,
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# The entry point.


def _available(listed, limit=20):
    names = [source.name for source, _ in listed]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _select(listed, names, root, benchmark):
    """The entries named (a sequence's name, or an OTB folder holding several targets)."""
    names = datasets.parse_names(names)
    if names is None:
        return [source for source, _ in listed]
    by_name = {source.name: source for source, _ in listed}
    selected, unknown = [], []
    for name in names:
        if name in by_name:
            picked = [by_name[name]]
        else:
            picked = [source for source, group in listed if group == name]
        if not picked:
            unknown.append(name)
        selected.extend(s for s in picked if s not in selected)
    if unknown:
        raise DatasetError(
            f"{root}: no {benchmark} sequence named {', '.join(unknown)}; available: "
            f"{_available(listed)}"
        )
    return selected


def sources(
    root: str | os.PathLike[str], benchmark: str, names: str | Iterable[str] | None = None
) -> list[datasets.SequenceSource]:
    """The sequences of a benchmark under ``root``, in its own layout, not loaded yet.

    Args:
      root: the benchmark's folder as downloaded (see the module docstring for each layout).
      benchmark: a key of :data:`BENCHMARKS` ("otb100", "lasot", "got10k_val", ...).
      names: optional sequence names (list or comma-separated string), in the order given; an
        OTB folder name selects all its targets (``Jogging``: ``Jogging-1``, ``Jogging-2``).

    Returns:
      [SequenceSource]: each ``load()`` returns the sequence (a :class:`BenchmarkSequence`
      for LaSOT and GOT-10k val, with ``target_visible``) or raises ``datasets.DatasetError``
      naming the file or folder at fault.

    Raises:
      DatasetError: an unknown benchmark (the known ones are listed), a missing root, a root
        whose layout is not the benchmark's (the message names the folder and the layout
        expected), or an unknown name (the available ones are listed).
    """
    if benchmark not in BENCHMARKS:
        raise DatasetError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
    root = pathlib.Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder is missing")
    listed = BENCHMARKS[benchmark].list_sources(root)
    return _select(listed, names, root, benchmark)


def describe() -> str:
    """One line per benchmark, ``name: description``, for command-line help."""
    return "; ".join(f"{b.name}: {b.description}" for b in BENCHMARKS.values())
