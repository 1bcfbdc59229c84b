"""TrackerConfig validation: bad values fail at construction, naming the field."""

import pytest

from tsn_jax.config import TrackerConfig


@pytest.mark.parametrize(
    "field, value",
    [
        ("tuple_learning", "none"),
        ("lasso_method", "lars"),
        ("temporal_label", "box"),
        ("proposal_features", "grid"),
        ("spatial_loss", "l3"),
        ("search_window", "square"),
    ],
)
def test_unknown_choice_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrackerConfig.{field}='{value}'"):
        TrackerConfig(**{field: value})


def test_non_positive_size_names_the_field():
    with pytest.raises(ValueError, match="num_proposals must be positive, got 0"):
        TrackerConfig(num_proposals=0)


def test_fine_tune_samples_come_from_the_proposals():
    with pytest.raises(ValueError, match="samples_per_frame=300 exceeds num_proposals=256"):
        TrackerConfig(samples_per_frame=300)
    config = TrackerConfig(samples_per_frame=100)
    assert config.memory_size == 20 * 100 + 256  # the ring and the first-frame rows


@pytest.mark.parametrize(
    "name, value, source",
    [
        ("first_frame_samples", -1, "num_init_samples=5000"),
        ("first_frame_samples", 5001, "num_init_samples=5000"),
        ("first_frame_windows", -1, "spatial_init_samples=64"),
        ("first_frame_windows", 65, "spatial_init_samples=64"),
    ],
)
def test_kept_first_frame_rows_name_the_field_and_their_source(name, value, source):
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, {source}\], got {value}"):
        TrackerConfig(**{name: value})


def test_roi_window_holds_the_box():
    with pytest.raises(ValueError, match="roi_target_size=160 exceeds search_size=150"):
        TrackerConfig(search_size=150, roi_target_size=160)


def test_shared_tuples_are_not_negative():
    with pytest.raises(ValueError, match="init_shared_tuples must be >= 0, got -1"):
        TrackerConfig(init_shared_tuples=-1)
