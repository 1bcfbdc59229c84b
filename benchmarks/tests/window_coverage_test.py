"""benchmarks/window_coverage.py: the share of context regions outside the roi search window."""

import jax
import numpy as np
import pytest

from benchmarks import window_coverage
from tsn_jax import config as config_lib

TALL = [100.0, 100.0, 20.0, 80.0]


@pytest.mark.parametrize("growth", [1.0, 3.0])
def test_the_covering_window_leaves_no_proposal_outside(growth):
    config = config_lib.TrackerConfig(search_window="covering")
    partly, area, box_share = window_coverage.outside_shares(
        TALL, (640, 480), config, jax.random.key(0), growth
    )
    assert partly == 0.0 and area < 1e-6
    assert box_share < 0.37  # widened across the short side


def test_the_aspect_window_cuts_the_context_of_a_tall_box():
    config = config_lib.TrackerConfig(search_window="aspect")
    partly, area, box_share = window_coverage.outside_shares(
        TALL, (640, 480), config, jax.random.key(0)
    )
    assert 0.2 < partly < 1.0 and 0.0 < area < partly
    np.testing.assert_allclose(box_share, config.roi_target_size / config.search_size, rtol=1e-5)
