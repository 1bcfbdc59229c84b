"""What `pip install .` installs: the commands, their flagfiles, and no top-level `bin`.

The wheel is built once (setuptools, no network) and unpacked outside the checkout; the flagfile
lookup is then run from the unpacked package with the editable install's import hook removed, so
it is the shipped copy that is read, from a directory with no configs/ folder.
"""

import configparser
import pathlib
import subprocess
import sys
import zipfile

import pytest

from bin import flagfiles

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMANDS = {
    "tsn-track": "tsn_jax_cli.track:run",
    "tsn-evaluate": "tsn_jax_cli.evaluate:run",
    "tsn-benchmark": "tsn_jax_cli.benchmark:run",
    "tsn-port-weights": "tsn_jax_cli.port_weights:run",
    "tsn-submission": "tsn_jax_cli.submission:run",
    "tsn-vot-trax": "tsn_jax_cli.vot_trax:run",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + [str(ROOT), "--wheel-dir", str(out)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("tsn_jax-*.whl")
    return path


def test_wheel_holds_the_library_the_commands_and_their_flagfiles(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"tsn_jax", "tsn_jax_cli"}
    for source in sorted((ROOT / "tsn_jax").rglob("*.py")):
        assert source.relative_to(ROOT).as_posix() in names
    for source in sorted((ROOT / "bin").glob("*.py")):
        assert f"tsn_jax_cli/{source.name}" in names
    for flagfile in sorted((ROOT / "configs").glob("*.flags")):
        assert f"tsn_jax_cli/configs/{flagfile.name}" in names


def test_wheel_declares_the_commands(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode())
    assert dict(parser["console_scripts"]) == COMMANDS


_SHIPPED_LOOKUP = """
import sys
editable = [f for f in sys.meta_path if getattr(f, "__module__", "").startswith("__editable")]
sys.meta_path = [f for f in sys.meta_path if f not in editable]
sys.path.insert(0, sys.argv[1])
from tsn_jax_cli import flagfiles
assert flagfiles.__file__.startswith(sys.argv[1]), flagfiles.__file__
print("\\n".join(flagfiles.expand(["tsn-track", "--flagfile=configs/ablation_l2.flags"])))
"""


def test_installed_commands_find_their_shipped_flagfiles_outside_a_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _SHIPPED_LOOKUP, str(site)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expanded = done.stdout.split()
    # ablation_l2.flags includes configs/otb.flags, which is found in the package too.
    assert expanded[0] == "tsn-track"
    assert "--num_proposals=256" in expanded and "--temporal_loss=l2" in expanded
    assert expanded.index("--temporal_loss=l2") > expanded.index("--temporal_loss=l1")


def test_expand_inlines_nested_flagfiles_in_order(tmp_path):
    inner = tmp_path / "inner.flags"
    inner.write_text("# a comment\n--a=1\n\n// another\n--b=2\n")
    outer = tmp_path / "outer.flags"
    outer.write_text(f"--flagfile={inner}\n--b=3\n")
    argv = ["prog", "--x=0", "--flagfile", str(outer), "--c=4", "--", "--flagfile=kept"]
    assert flagfiles.expand(argv) == [
        "prog",
        "--x=0",
        "--a=1",
        "--b=2",
        "--b=3",
        "--c=4",
        "--",
        "--flagfile=kept",
    ]


def test_expand_names_a_missing_flagfile_and_the_shipped_ones():
    with pytest.raises(flagfiles.FlagfileError, match=r"--flagfile=nosuch\.flags.*otb"):
        flagfiles.expand(["prog", "--flagfile=nosuch.flags"])


def test_expand_stops_a_cycle(tmp_path):
    first, second = tmp_path / "first.flags", tmp_path / "second.flags"
    first.write_text(f"--flagfile={second}\n")
    second.write_text(f"--flagfile={first}\n")
    with pytest.raises(flagfiles.FlagfileError, match="cycle"):
        flagfiles.expand(["prog", f"--flagfile={first}"])


def test_shipped_configs_are_found_by_short_names():
    shipped = (ROOT / "configs/otb.flags").resolve()
    assert flagfiles.resolve("otb").resolve() == shipped
    assert flagfiles.resolve("configs/otb.flags").resolve() == shipped
    assert flagfiles.resolve("otb.flags").read_text() == (ROOT / "configs/otb.flags").read_text()
