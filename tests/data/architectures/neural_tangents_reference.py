"""Reference NNGP kernels of the architecture programs (programs/cnn1d_nngp.tp, ...), computed
with neural-tangents' stax in float64. Run by hand, never by the tests:

    python neural_tangents_reference.py > neural_tangents.txt

needs neural-tangents 0.6.5 with jax 0.4.35 (CPU). Each output line is
`name i j value`, the NNGP entry (i, j) of the named program's kernel.
"""
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np
from neural_tangents import stax

SW = np.sqrt(2.0)


def cnn1d():
    # conv width 2 VALID -> relu -> conv width 2 VALID -> relu -> global average pool -> dense
    x = jnp.array([[1, 0.5, -0.3, 0.7], [0.2, -1, 0.8, 0.4]], dtype=jnp.float64)[:, :, None]
    _, _, kernel_fn = stax.serial(
        stax.Conv(1, (2,), padding="VALID", W_std=SW, b_std=None),
        stax.Relu(),
        stax.Conv(1, (2,), padding="VALID", W_std=SW, b_std=None),
        stax.Relu(),
        stax.GlobalAvgPool(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, "nngp")


XI = jnp.array([[1, 0], [0.9, 1.2]], dtype=jnp.float64)


def layernorm():
    # dense -> relu -> dense -> LayerNorm -> relu -> dense
    _, _, kernel_fn = stax.serial(
        stax.Dense(1, W_std=SW, b_std=None),
        stax.Relu(),
        stax.Dense(1, W_std=SW, b_std=None),
        stax.LayerNorm(),
        stax.Relu(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(XI, XI, "nngp")


def resnet_block():
    # dense -> [identity + (relu -> dense)] -> relu -> dense
    _, _, kernel_fn = stax.serial(
        stax.Dense(1, W_std=SW, b_std=None),
        stax.FanOut(2),
        stax.parallel(stax.Identity(), stax.serial(stax.Relu(), stax.Dense(1, W_std=SW, b_std=None))),
        stax.FanInSum(),
        stax.Relu(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(XI, XI, "nngp")


def cnn2d():
    # conv 3x3 SAME -> relu -> conv 3x3 SAME stride 2 -> relu -> 2x2 average pooling -> dense
    x = jnp.array(
        [
            [[1, 0.5, -0.3], [0.7, 0.2, -1], [0.8, 0.4, 0.1]],
            [[-0.6, 0.9, 0.3], [0.5, -0.2, 0.7], [0.1, 1.0, -0.4]],
        ],
        dtype=jnp.float64,
    )[..., None]
    _, _, kernel_fn = stax.serial(
        stax.Conv(1, (3, 3), padding="SAME", W_std=SW, b_std=None),
        stax.Relu(),
        stax.Conv(1, (3, 3), strides=(2, 2), padding="SAME", W_std=SW, b_std=None),
        stax.Relu(),
        stax.AvgPool((2, 2), strides=(2, 2)),
        stax.Flatten(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, "nngp")


def attention():
    # token embedding -> GlobalSelfAttention (tied keys/queries, 1/n scores) -> token average -> dense
    x = jnp.array(
        [[[1, 0], [0.6, 0.8], [-0.5, 0.5]], [[0.2, -1], [0.9, 0.3], [0, 1.2]]], dtype=jnp.float64
    )
    _, _, kernel_fn = stax.serial(
        stax.Conv(1, (1,), W_std=SW, b_std=None),
        stax.GlobalSelfAttention(
            n_chan_out=1, n_chan_key=1, n_chan_val=1, n_heads=1, linear_scaling=True,
            W_key_std=1.0, W_query_std=1.0, W_value_std=1.0, W_out_std=1.0, b_std=None,
        ),
        stax.GlobalAvgPool(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, "nngp")


def gen_cnn1d():
    # tpc gen cnn --dims 1 --kernel 2 --padding valid --depth 2 (the network of cnn1d), NTK
    x = jnp.array([[1, 0.5, -0.3, 0.7], [0.2, -1, 0.8, 0.4]], dtype=jnp.float64)[:, :, None]
    _, _, kernel_fn = stax.serial(
        stax.Conv(1, (2,), padding="VALID", W_std=SW, b_std=None),
        stax.Relu(),
        stax.Conv(1, (2,), padding="VALID", W_std=SW, b_std=None),
        stax.Relu(),
        stax.GlobalAvgPool(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, "ntk")


def gen_cnn2d(kind):
    # tpc gen cnn --dims 2 --kernel 3 --stride 2 --padding same --pool global --depth 2
    x = jnp.array(
        [
            [[1, 0.5, -0.3], [0.7, 0.2, -1], [0.8, 0.4, 0.1]],
            [[-0.6, 0.9, 0.3], [0.5, -0.2, 0.7], [0.1, 1.0, -0.4]],
        ],
        dtype=jnp.float64,
    )[..., None]
    _, _, kernel_fn = stax.serial(
        stax.Conv(1, (3, 3), strides=(2, 2), padding="SAME", W_std=SW, b_std=None),
        stax.Relu(),
        stax.Conv(1, (3, 3), strides=(2, 2), padding="SAME", W_std=SW, b_std=None),
        stax.Relu(),
        stax.GlobalAvgPool(),
        stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, kind)


def gen_resnet(kind):
    # tpc gen resnet --blocks 2: dense -> 2 x [identity + (relu -> dense)] -> relu -> dense
    block = stax.serial(
        stax.FanOut(2),
        stax.parallel(stax.Identity(), stax.serial(stax.Relu(), stax.Dense(1, W_std=SW, b_std=None))),
        stax.FanInSum(),
    )
    _, _, kernel_fn = stax.serial(
        stax.Dense(1, W_std=SW, b_std=None), block, block, stax.Relu(), stax.Dense(1, W_std=SW, b_std=None)
    )
    return kernel_fn(XI, XI, kind)


TOKENS = jnp.array(
    [[[1, 0], [0.6, 0.8], [-0.5, 0.5]], [[0.2, -1], [0.9, 0.3], [0, 1.2]]], dtype=jnp.float64
)


def gen_transformer(kind, blocks, heads, phi, sw):
    # tpc gen transformer-block: dense embedding -> blocks x [x + Attention(LayerNorm(x)),
    # x + Dense(phi(Dense(LayerNorm(x))))] -> average over tokens -> dense. LayerNorm with eps = 0
    # (the limit has no epsilon; the default 1e-12 would move every entry by about 1e-12 relative).
    attention = stax.GlobalSelfAttention(
        n_chan_out=1, n_chan_key=1, n_chan_val=1, n_heads=heads, linear_scaling=True,
        W_key_std=1.0, W_query_std=1.0, W_value_std=1.0, W_out_std=1.0, b_std=None,
    )
    mlp = stax.serial(stax.Dense(1, W_std=sw, b_std=None), phi, stax.Dense(1, W_std=sw, b_std=None))
    block = stax.serial(
        stax.FanOut(2), stax.parallel(stax.Identity(), stax.serial(stax.LayerNorm(eps=0.0), attention)), stax.FanInSum(),
        stax.FanOut(2), stax.parallel(stax.Identity(), stax.serial(stax.LayerNorm(eps=0.0), mlp)), stax.FanInSum(),
    )
    _, _, kernel_fn = stax.serial(
        stax.Dense(1, W_std=sw, b_std=None), *[block] * blocks, stax.GlobalAvgPool(), stax.Dense(1, W_std=sw, b_std=None)
    )
    return kernel_fn(TOKENS, TOKENS, kind)


def gen_cnn2d_deep(kind):
    # tpc gen cnn --dims 2 --kernel 3 --padding same --depth 3 --ntk on four 5x5 images of two
    # channels, x[i, p, q, c] = ((7 i + 3 p + 5 q + 11 c) mod 13 - 6) / 4 (exact in binary): the
    # shape of the 100-input benchmark (3 conv layers 3x3 SAME, relu, global average pooling).
    i, p, q, c = np.meshgrid(np.arange(4), np.arange(5), np.arange(5), np.arange(2), indexing="ij")
    x = jnp.array(((7 * i + 3 * p + 5 * q + 11 * c) % 13 - 6) / 4, dtype=jnp.float64)
    conv = lambda: stax.Conv(1, (3, 3), padding="SAME", W_std=SW, b_std=None)
    _, _, kernel_fn = stax.serial(
        conv(), stax.Relu(), conv(), stax.Relu(), conv(), stax.Relu(),
        stax.GlobalAvgPool(), stax.Dense(1, W_std=SW, b_std=None),
    )
    return kernel_fn(x, x, kind)


def main():
    for name, k in [("cnn1d", cnn1d()), ("layernorm", layernorm()), ("resnet_block", resnet_block()), ("cnn2d", cnn2d()), ("attention", attention()),
        ("gen_cnn1d_ntk", gen_cnn1d()), ("gen_cnn2d_nngp", gen_cnn2d("nngp")), ("gen_cnn2d_ntk", gen_cnn2d("ntk")),
        ("gen_cnn2d_deep_nngp", gen_cnn2d_deep("nngp")), ("gen_cnn2d_deep_ntk", gen_cnn2d_deep("ntk")),
        ("gen_resnet_nngp", gen_resnet("nngp")), ("gen_resnet_ntk", gen_resnet("ntk")),
        # tpc gen transformer-block --blocks 2 (relu, σw² = 2), and --blocks 1 --heads 2 --nonlin erf --weight-var 1.5
        ("gen_transformer_nngp", gen_transformer("nngp", 2, 1, stax.Relu(), SW)),
        ("gen_transformer_ntk", gen_transformer("ntk", 2, 1, stax.Relu(), SW)),
        ("gen_transformer_erf_nngp", gen_transformer("nngp", 1, 2, stax.Erf(), np.sqrt(1.5))),
        ("gen_transformer_erf_ntk", gen_transformer("ntk", 1, 2, stax.Erf(), np.sqrt(1.5)))]:
        k = np.asarray(k)
        for i in range(k.shape[0]):
            for j in range(i, k.shape[1]):
                print(f"{name} {i} {j} {float(k[i, j])!r}")


main()
