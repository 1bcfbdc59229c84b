"""Tests for tsn_jax.memory: the bounded ring buffer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import memory


def test_write_fills_then_wraps_around():
    buffer = memory.empty(5, (2,))
    buffer = memory.write(buffer, jnp.ones((3, 2)), jnp.arange(3.0))
    np.testing.assert_array_equal(buffer.valid, [1, 1, 1, 0, 0])
    buffer = memory.write(buffer, 2 * jnp.ones((3, 2)), jnp.arange(3.0, 6.0))
    np.testing.assert_array_equal(buffer.valid, [1] * 5)
    # Rows 3, 4 then 0 were written last: the oldest row (0) was overwritten.
    np.testing.assert_array_equal(buffer.labels, [5, 1, 2, 3, 4])
    assert int(buffer.write_position) == 1


def test_write_under_jit_matches_eager():
    buffer = memory.empty(4, (), (3,))
    rows, labels = jnp.arange(3.0), jnp.ones((3, 3))
    eager = memory.write(buffer, rows, labels)
    jitted = jax.jit(memory.write)(buffer, rows, labels)
    jax.tree.map(np.testing.assert_array_equal, eager, jitted)


def test_write_more_rows_than_capacity_is_an_error():
    with pytest.raises(ValueError, match="cannot write 6 rows"):
        memory.write(memory.empty(5, ()), jnp.zeros(6), jnp.zeros(6))
