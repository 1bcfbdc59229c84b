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


def test_write_keeps_the_leading_rows():
    buffer = memory.write(memory.empty(5, ()), jnp.arange(5.0), jnp.arange(5.0))
    assert int(buffer.write_position) == 0
    for start in (10.0, 20.0, 30.0):  # three writes of two rows wrap the ring of rows 2-4 twice
        buffer = memory.write(buffer, jnp.full(2, start), jnp.full(2, start), keep_rows=2)
    # Rows 2, 3 | 4, 2 | 3, 4 were written: rows 0 and 1 never.
    np.testing.assert_array_equal(buffer.labels, [0, 1, 20, 30, 30])
    assert int(buffer.write_position) == 2
    jitted = jax.jit(memory.write, static_argnames="keep_rows")(
        buffer, jnp.zeros(2), jnp.zeros(2), keep_rows=2
    )
    np.testing.assert_array_equal(jitted.labels, [0, 1, 0, 0, 30])


def test_write_more_rows_than_the_ring_is_an_error():
    with pytest.raises(ValueError, match=r"cannot write 4 rows .* \(2 kept\)"):
        memory.write(memory.empty(5, ()), jnp.zeros(4), jnp.zeros(4), keep_rows=2)


def test_masked_write():
    buffer = memory.write(memory.empty(6, (2,)), jnp.ones((3, 2)), jnp.arange(3.0), keep_rows=1)
    rows, labels = 7 * jnp.ones((2, 2)), jnp.asarray([7.0, 8.0])
    kept = memory.write(buffer, rows, labels, keep_rows=1, where=jnp.asarray(False))
    jax.tree.map(np.testing.assert_array_equal, kept, buffer)
    written = memory.write(buffer, rows, labels, keep_rows=1, where=jnp.asarray(True))
    jax.tree.map(np.testing.assert_array_equal, written, memory.write(buffer, rows, labels, 1))


def test_masked_write_stays_in_place_under_jit():
    # The point of `where`: no select over, and no copy of, the whole [capacity, ...] buffer.
    buffer = memory.empty(64, (8, 8, 16))
    write = jax.jit(memory.write, static_argnames="keep_rows", donate_argnums=0)
    rows, labels = jnp.ones((4, 8, 8, 16)), jnp.ones(4)
    hlo = write.lower(buffer, rows, labels, keep_rows=8, where=jnp.asarray(True)).compile()
    whole = [
        line
        for line in hlo.as_text().splitlines()
        if "= f32[64,8,8,16]" in line and (" copy(" in line or " select(" in line)
    ]
    assert not whole, whole
