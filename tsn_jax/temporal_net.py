"""Temporal Net (paper 3.2.2, Eq. 2): similarity of a proposal to a tuple of past targets.

Input: the K tuple features and one proposal feature, concatenated ((K + 1) * D values).
FC ``hidden`` -> ReLU -> dropout -> FC ``hidden`` -> ReLU -> dropout -> FC 1 -> sigmoid.
Trained online to regress the IoU of the proposal with the target (in the first frame
optionally with its tuple's last member, the paper's label), by L1 loss (L2 as the paper's
ablation) and optax SGD + momentum. Training is a pure function of ``(params, opt_state,
batch, key)`` (``train_step``); ``train`` runs many steps in one ``lax.scan``, drawing its
minibatches from a sample memory on device.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike

from tsn_jax import boxes


class TemporalNet(nn.Module):
    """Tuple + proposal -> similarity in (0, 1).

    Attributes:
      hidden: width of the two hidden layers (paper: 512).
      dropout_rate: dropout after each hidden layer while training (paper: 0.5).
    """

    hidden: int = 512
    dropout_rate: float = 0.5

    @nn.compact
    def __call__(
        self,
        tuple_features: jax.Array,
        proposal_features: jax.Array,
        *,
        train: bool,
        tuple_rows: jax.Array | None = None,
    ) -> jax.Array:
        """Scores proposals.

        Args:
          tuple_features: [B, K, D] float32 features of each proposal's tuple, [K, D] for
            one tuple shared by all proposals (tracking: then the tuple's share of the first
            layer is computed once, not B times), or with ``tuple_rows`` an [R, K, D] table of
            tuples.
          proposal_features: [B, D] float32 features of the proposals.
          train: dropout on (needs a ``dropout`` rng) when True, off when False.
          tuple_rows: optional [B] int32, the table row of each proposal's tuple. The same
            function as passing ``tuple_features[tuple_rows]``, but each row's share of the
            first layer is computed once (the fine-tune's 128 samples share ~21 stored tuples).

        Returns:
          [B] float32 similarities in (0, 1).
        """
        dim = proposal_features.shape[-1]
        num_tuple = tuple_features.shape[-2]
        # fc1 of the concatenation [tuple_1 .. tuple_K, proposal] ((K + 1) * D inputs), split
        # into its tuple and proposal rows. Unit-norm features have entries of about
        # 1 / sqrt(D): rescaling them to unit RMS lets the default initialisation see inputs of
        # unit scale (otherwise the net starts, and for long stays, at a constant 0.5).
        kernel = self.param(
            "fc1_kernel", nn.initializers.lecun_normal(), ((num_tuple + 1) * dim, self.hidden)
        )
        bias = self.param("fc1_bias", nn.initializers.zeros, (self.hidden,))
        scale = jnp.sqrt(jnp.float32(dim))
        flat_tuple = tuple_features.reshape(*tuple_features.shape[:-2], num_tuple * dim)
        x = (flat_tuple * scale) @ kernel[: num_tuple * dim] + bias
        if tuple_rows is not None:
            x = x[tuple_rows]
        x = x + (proposal_features * scale) @ kernel[num_tuple * dim :]
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(nn.relu(x))
        x = nn.relu(nn.Dense(self.hidden, name="fc2")(x))
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        return nn.sigmoid(nn.Dense(1, name="fc3")(x)[:, 0])


def loss(similarities: jax.Array, labels: jax.Array, loss_type: str = "l1") -> jax.Array:
    """Mean L1 (paper) or squared ("l2", the ablation) error of [B] similarities vs [B] labels."""
    error = similarities - labels
    if loss_type == "l1":
        return jnp.mean(jnp.abs(error))
    if loss_type == "l2":
        return jnp.mean(jnp.square(error))
    raise ValueError(f"unknown temporal loss {loss_type!r}; expected 'l1' or 'l2'")


def make_optimizer(learning_rate: float, momentum: float) -> optax.GradientTransformation:
    """SGD with momentum (paper 4.1)."""
    return optax.sgd(learning_rate, momentum=momentum)


def train_step(
    model: TemporalNet,
    optimizer: optax.GradientTransformation,
    params: optax.Params,
    opt_state: optax.OptState,
    batch: tuple[jax.Array, jax.Array, jax.Array],
    key: jax.Array,
    loss_type: str = "l1",
    tuple_rows: jax.Array | None = None,
) -> tuple[optax.Params, optax.OptState, jax.Array]:
    """One SGD step.

    Args:
      model: a TemporalNet.
      optimizer: an optax optimizer (``make_optimizer``).
      params, opt_state: current parameters and optimizer state.
      batch: (tuples [B, K, D], proposals [B, D], labels [B]); with ``tuple_rows`` the
        tuples are an [R, K, D] table (``TemporalNet``).
      key: PRNG key for dropout.
      loss_type: "l1" or "l2".
      tuple_rows: optional [B] int32 table rows of the samples' tuples.

    Returns:
      (params, opt_state, loss before the step).
    """
    tuples, proposals, labels = batch

    def batch_loss(p):
        predictions = model.apply(
            {"params": p},
            tuples,
            proposals,
            train=True,
            tuple_rows=tuple_rows,
            rngs={"dropout": key},
        )
        return loss(predictions, labels, loss_type)

    value, grads = jax.value_and_grad(batch_loss)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value


def _masked_choice(key, valid, shape):
    """Indices drawn uniformly (with replacement) from the True entries of [N] ``valid``.

    Falls back to index 0 if nothing is valid, so the draw is always well defined. One
    uniform integer per draw indexes the list of valid entries: a categorical draw over N
    logits costs N Gumbel numbers per draw (on the 2-core CPU that was nearly three quarters
    of the first frame's Temporal Net training, docs/decisions.md D43).
    """
    valid = jnp.asarray(valid)
    valid = valid | ((jnp.arange(valid.shape[0]) == 0) & ~jnp.any(valid))
    (valid_indices,) = jnp.nonzero(valid, size=valid.shape[0], fill_value=0)
    picks = jax.random.randint(key, shape, 0, jnp.sum(valid))
    return valid_indices[picks]


def train(
    model: TemporalNet,
    optimizer: optax.GradientTransformation,
    params: optax.Params,
    opt_state: optax.OptState,
    key: jax.Array,
    sample_features: ArrayLike,
    sample_labels: ArrayLike,
    sample_valid: ArrayLike,
    tuple_candidates: ArrayLike | None,
    tuple_valid: ArrayLike | None,
    *,
    num_steps: int,
    batch_size: int,
    k: int,
    shared_tuples: int = 0,
    loss_type: str = "l1",
    sample_boxes: ArrayLike | None = None,
    tuple_boxes: ArrayLike | None = None,
    tuple_table: jax.Array | None = None,
    sample_tuple_rows: jax.Array | None = None,
) -> tuple[optax.Params, optax.OptState, jax.Array]:
    """``num_steps`` SGD steps on minibatches drawn from a sample memory, in one ``lax.scan``.

    Each minibatch takes ``batch_size`` valid samples (features and IoU labels). Each sample
    gets a tuple: ``k`` features drawn at random from the valid tuple candidates (first
    frame: samples with IoU >= 0.7 around the target), or, with ``tuple_table``, the learned
    tuple its frame was scored with (online fine-tune: the net trains on the kind of tuple it
    sees when tracking).

    With ``sample_boxes`` and ``tuple_boxes`` (first frame, all boxes in one frame) a sample's
    label is instead its IoU with its tuple's last member, the paper's "overlap rate of the
    latest two regions" (3.2.2): the net then has to compare the proposal with the tuple.

    Args:
      model, optimizer, params, opt_state: as in ``train_step``.
      key: PRNG key.
      sample_features: [M, D] float32; sample_labels: [M] IoU labels; sample_valid: [M] bool.
      tuple_candidates: [P, D] float32; tuple_valid: [P] bool.
      num_steps, batch_size, k: static ints.
      shared_tuples: static int; > 0: each minibatch draws this many tuples and each sample
        takes one of them at random, so each tuple's share of fc1 is computed once for
        ~batch_size / shared_tuples samples (docs/decisions.md D45); 0: a tuple per sample.
        Each sample's tuple is k uniform draws from the candidates either way.
      loss_type: "l1" or "l2".
      sample_boxes: optional [M, 4] xywh boxes of the samples; with tuple_boxes [P, 4] of the
        tuple candidates (same frame), labels are pairwise IoUs (above), not sample_labels.
      tuple_table: optional [R, k, D] float32 stored tuples; with sample_tuple_rows [M] int32
        (the row of each sample's tuple) they replace the random draws (tuple_candidates and
        tuple_valid are then unused and may be None).

    Returns:
      (params, opt_state, losses [num_steps]).
    """
    if (sample_boxes is None) != (tuple_boxes is None):
        raise ValueError("sample_boxes and tuple_boxes go together")
    if sample_boxes is not None:
        sample_boxes, tuple_boxes = jnp.asarray(sample_boxes), jnp.asarray(tuple_boxes)
    if (tuple_table is None) != (sample_tuple_rows is None):
        raise ValueError("tuple_table and sample_tuple_rows go together")
    if tuple_table is not None and sample_boxes is not None:
        raise ValueError("pairwise labels need drawn tuples, not a tuple_table")

    sample_features, sample_labels, sample_valid = (
        jnp.asarray(x) for x in (sample_features, sample_labels, sample_valid)
    )

    def tuples_of(picked, k_tuples):
        """(tuples, [B] table rows or None, [B] labels) of the picked samples: [B, k, D]
        drawn tuples, or the [R, k, D] table and each sample's row."""
        if tuple_table is not None:
            return tuple_table, sample_tuple_rows[picked], sample_labels[picked]
        k_members, k_rows = jax.random.split(k_tuples)
        rows = None
        if shared_tuples:
            members = _masked_choice(k_members, tuple_valid, (shared_tuples, k))
            rows = jax.random.randint(k_rows, (batch_size,), 0, shared_tuples)
            last_members = members[rows, -1]
        else:
            members = _masked_choice(k_members, tuple_valid, (batch_size, k))
            last_members = members[:, -1]
        labels = sample_labels[picked]
        if sample_boxes is not None:
            labels = boxes.iou(tuple_boxes[last_members], sample_boxes[picked])
        return jnp.asarray(tuple_candidates)[members], rows, labels

    def one_step(carry, step_key):
        p, o = carry
        k_samples, k_tuples, k_dropout = jax.random.split(step_key, 3)
        picked = _masked_choice(k_samples, sample_valid, (batch_size,))
        tuples, rows, labels = tuples_of(picked, k_tuples)
        batch = (tuples, sample_features[picked], labels)
        p, o, value = train_step(model, optimizer, p, o, batch, k_dropout, loss_type, rows)
        return (p, o), value

    (params, opt_state), losses = jax.lax.scan(
        one_step, (params, opt_state), jax.random.split(key, num_steps)
    )
    return params, opt_state, losses
