"""tsn_jax: the TSN visual object tracker (temporal and spatial deep networks) in JAX/Flax."""
