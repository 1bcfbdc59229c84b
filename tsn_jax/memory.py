"""Bounded ring buffers of training samples for the online updates.

The Temporal Net is fine-tuned every few frames on samples from recent frames, and the Spatial
Net is updated every frame on recent windows (paper 3.2.2 and 3.4). Both draw from a
fixed-capacity buffer with a ``valid`` mask, so tracking memory stays flat over any sequence
length and the shapes never change under jit. Leading rows can be kept out of the ring
(``keep_rows``): the Temporal Net's memory keeps first-frame samples, and the Spatial Net's
first-frame windows, for the whole sequence.
"""

import flax
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


@flax.struct.dataclass
class SampleMemory:
    """A ring buffer of (input, label) rows.

    Attributes:
      inputs: [M, ...] float32 stored inputs (features or fused feature maps).
      labels: [M, ...] float32 stored labels (IoU or Gaussian maps).
      valid: [M] bool, rows written so far.
      write_position: [] int32, row the next write starts at.
    """

    inputs: jax.Array
    labels: jax.Array
    valid: jax.Array
    write_position: jax.Array


def empty(
    capacity: int, input_shape: tuple[int, ...], label_shape: tuple[int, ...] = ()
) -> SampleMemory:
    """An empty buffer of ``capacity`` rows of the given per-row shapes (float32)."""
    return SampleMemory(
        inputs=jnp.zeros((capacity, *input_shape), jnp.float32),
        labels=jnp.zeros((capacity, *label_shape), jnp.float32),
        valid=jnp.zeros((capacity,), bool),
        write_position=jnp.zeros((), jnp.int32),
    )


def write(
    memory: SampleMemory,
    inputs: jax.Array,
    labels: jax.Array,
    keep_rows: int = 0,
    where: ArrayLike | None = None,
) -> SampleMemory:
    """Writes n rows at the write position, wrapping around; the oldest rows are overwritten.

    Args:
      memory: the buffer.
      inputs: [n, ...] rows to store, n <= capacity - keep_rows.
      labels: [n, ...] their labels.
      keep_rows: static int, leading rows that are never overwritten (the first frame's
        samples): the ring is rows keep_rows .. capacity - 1, and a write position below
        keep_rows counts as keep_rows.
      where: optional [] bool; False leaves the buffer as it was. Only the n rows are touched
        either way (a masked write, not a select over the whole buffer), so under ``jit``
        with a donated buffer the write stays in place.

    Returns:
      The updated buffer.
    """
    capacity = memory.valid.shape[0]
    ring = capacity - keep_rows
    count = inputs.shape[0]
    if count > ring:
        raise ValueError(
            f"cannot write {count} rows into a memory of {capacity} rows ({keep_rows} kept)"
        )
    position = jnp.maximum(memory.write_position, keep_rows) - keep_rows
    rows = keep_rows + (position + jnp.arange(count)) % ring
    inputs = inputs.astype(memory.inputs.dtype)
    labels = labels.astype(memory.labels.dtype)
    valid = jnp.ones((count,), bool)
    next_position = keep_rows + (position + count) % ring
    if where is not None:
        inputs = jnp.where(where, inputs, memory.inputs[rows])
        labels = jnp.where(where, labels, memory.labels[rows])
        valid = jnp.where(where, valid, memory.valid[rows])
        next_position = jnp.where(where, next_position, memory.write_position)
    return memory.replace(
        inputs=memory.inputs.at[rows].set(inputs),
        labels=memory.labels.at[rows].set(labels),
        valid=memory.valid.at[rows].set(valid),
        write_position=next_position.astype(memory.write_position.dtype),
    )
