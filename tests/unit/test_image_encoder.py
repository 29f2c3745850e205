"""The image encoder: which observations are images, the image put back together from the flat
vector the same way whether stored channels-last or -first, raw bytes scaled to [0, 1], the
fused path declined, and `policy.encoder cnn` refused where it cannot apply, naming why."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from thermorl.config import PolicyConfig
from thermorl.envs.spaces import head_specs
from thermorl.errors import ConfigError
from thermorl.nets import ActorCritic
from thermorl.nets.encoder import (ImageEncoder, ImageSpec, MultiEncoder, MultiSpec, describe,
                                  image_of, resolve)
from thermorl.nets.fused import unsupported

Box = gym.spaces.Box


@pytest.mark.parametrize("shape, dtype, want", [
    ((96, 96, 3), np.uint8, (3, 96, 96, True)),
    ((4, 84, 84), np.uint8, (4, 84, 84, False)),
    ((84, 84), np.uint8, (1, 84, 84, True)),
    ((10, 10, 4), np.float32, (4, 10, 10, True)),
    ((84, 84), np.float32, None),   # a float matrix: a table of features more often than not
    ((32, 7), np.uint8, None),      # a side under 8
    ((17,), np.float32, None),
    ((5, 40, 40, 3), np.uint8, None),
])
def test_what_counts_as_an_image(shape, dtype, want):
    assert image_of(Box(0, 255, shape, dtype)) == want


def test_channels_last_and_first_give_the_same_features():
    rng = np.random.default_rng(0)
    img = rng.random((3, 40, 40), dtype=np.float32)  # C, H, W
    last = ImageEncoder(ImageSpec(3, 40, 40, True, 1.0))
    first = ImageEncoder(ImageSpec(3, 40, 40, False, 1.0))
    first.load_state_dict(last.state_dict())
    flat_last = torch.as_tensor(img.transpose(1, 2, 0).reshape(1, -1))  # H, W, C flattened
    flat_first = torch.as_tensor(img.reshape(1, -1))
    out = last(flat_last)
    assert out.shape == (1, 512)
    # equal up to float32 summation order (the convolution sees differently strided memory)
    torch.testing.assert_close(out, first(flat_first), rtol=1e-4, atol=1e-5)


def test_raw_bytes_are_scaled_and_normalized_ones_are_not():
    space = Box(0, 255, (12, 12, 3), np.uint8)
    assert resolve("auto", space, normalized=False).scale == pytest.approx(1 / 255)
    assert resolve("auto", space, normalized=True).scale == 1.0
    spec = resolve("cnn", space, normalized=False)
    enc = ImageEncoder(spec)
    x = torch.full((2, spec.dim), 255.0)
    unscaled = ImageEncoder(ImageSpec(3, 12, 12, True, 1.0))
    unscaled.load_state_dict(enc.state_dict())
    torch.testing.assert_close(enc(x), unscaled(x / 255.0))


def test_auto_leaves_non_images_to_the_mlp_and_mlp_turns_it_off():
    assert resolve("auto", Box(-1, 1, (4,)), False) is None
    assert resolve("mlp", Box(0, 255, (64, 64, 3), np.uint8), False) is None


def test_cnn_where_it_cannot_apply_is_a_config_error():
    with pytest.raises(ConfigError, match=r"needs an image observation.*Box\(-1.0, 1.0, \(4,\), "
                                          r"float32\).*accepted: policy.encoder mlp or auto"):
        resolve("cnn", Box(-1, 1, (4,)), False)


def test_an_actor_critic_with_an_encoder_acts_and_is_not_fused():
    spec = ImageSpec(3, 40, 40, True, 1 / 255)
    ac = ActorCritic(spec.dim, head_specs(gym.spaces.Discrete(4)), PolicyConfig(), image=spec)
    obs = torch.rand(5, spec.dim) * 255
    dist, value = ac(obs)
    assert dist.sample()["action"].shape == (5,) and value.shape == (5,)
    assert unsupported(ac) == "an image encoder (convolutions)"
    # actor and critic each have their own encoder
    assert ac.actor_body[0] is not ac.critic[0]
    assert isinstance(ac.critic[0], ImageEncoder)


@pytest.mark.parametrize("side, last", [(8, True), (9, False), (35, True), (36, True), (96, True)])
def test_every_image_size_from_the_smallest_goes_through(side, last):
    enc = ImageEncoder(ImageSpec(3, side, side + 1, last, 1.0))
    assert enc(torch.rand(2, 3 * side * (side + 1))).shape == (2, 512)


Dict, Discrete, Tuple = gym.spaces.Dict, gym.spaces.Discrete, gym.spaces.Tuple
CAMERA = Box(0, 255, (12, 12, 3), np.uint8)


def test_images_among_a_dicts_entries_are_found_in_the_flat_vectors_order():
    space = Dict({"pos": Box(-1, 1, (3,)), "cam": CAMERA, "mode": Discrete(4),
                  "action_mask": gym.spaces.MultiBinary(2)})
    spec = resolve("auto", space, False)
    assert isinstance(spec, MultiSpec)
    # gymnasium sorts the keys; the mask entry is not an observation
    assert [(name, width) for name, width, _ in spec.parts] == [("cam", 432), ("mode", 4),
                                                                 ("pos", 3)]
    assert spec.images == [("cam", ImageSpec(3, 12, 12, True, 1 / 255))]
    # normalized observations are not scaled again
    assert resolve("cnn", space, True).images[0][1].scale == 1.0
    nested = Tuple((Box(-1, 1, (2,)), Dict({"eye": Box(0, 1, (3, 20, 20))})))
    assert resolve("auto", nested, False).images == [
        ("1/eye", ImageSpec(3, 20, 20, False, 1.0))]
    assert describe(spec) == "image observation entries 'cam' (12x12, 3 channel(s))"


def test_a_composite_without_images_stays_with_the_mlp_and_cnn_says_why():
    space = Dict({"pos": Box(-1, 1, (3,)), "mode": Discrete(4)})
    assert resolve("auto", space, False) is None
    with pytest.raises(ConfigError, match=r"alone or as an entry of a Dict or Tuple; this "
                                          r"env's is Dict\("):
        resolve("cnn", space, False)


def test_the_multi_encoder_gives_each_image_and_the_rest_64_features():
    space = Dict({"a": Box(-1, 1, (3,)), "cam": CAMERA, "m": Discrete(2),
                  "z": Box(0, 255, (1, 10, 10), np.uint8)})
    spec = resolve("auto", space, False)
    enc = MultiEncoder(spec)
    assert enc.n_out == 3 * 64
    obs = torch.cat([torch.randn(4, 3), torch.rand(4, 432) * 255, torch.eye(2)[[0, 1, 1, 0]],
                     torch.rand(4, 100) * 255], 1)
    out = enc(obs)
    assert out.shape == (4, 192)
    for k, (a, b) in enumerate([(3, 435), (437, 537)]):  # the images, in their order
        alone = ImageEncoder(spec.images[k][1], 64)
        alone.load_state_dict(enc.encoders[k].state_dict())
        torch.testing.assert_close(out[:, 64 * k:64 * (k + 1)], alone(obs[:, a:b]))
    # the other entries together ('a' and 'm'), through one tanh layer
    rest = torch.cat([obs[:, :3], obs[:, 435:437]], 1)
    torch.testing.assert_close(out[:, 128:], torch.tanh(enc.rest[0](rest)))
    # leading dims, as a recurrent core's [T, N, dim], go through
    assert enc(obs.reshape(2, 2, -1)).shape == (2, 2, 192)
    # images alone: no layer for the rest
    only = MultiEncoder(resolve("auto", Dict({"cam": CAMERA}), False))
    assert only.rest is None and only.n_out == 64


def test_an_actor_critic_over_a_dict_with_a_camera_acts():
    space = Dict({"cam": CAMERA, "pos": Box(-1, 1, (3,))})
    spec = resolve("auto", space, False)
    ac = ActorCritic(435, head_specs(gym.spaces.Discrete(4)), PolicyConfig(), image=spec)
    dist, value = ac(torch.rand(5, 435))
    assert dist.sample()["action"].shape == (5,) and value.shape == (5,)
    assert isinstance(ac.actor_body[0], MultiEncoder) and isinstance(ac.critic[0], MultiEncoder)
    assert ac.actor_body[0] is not ac.critic[0]
    assert unsupported(ac) == "an image encoder (convolutions)"


def test_sac_reads_one_encoder_that_only_the_critic_loss_trains():
    from thermorl.envs.spaces import HeadSpec
    from thermorl.nets.sac import SACNets

    spec = ImageSpec(3, 12, 12, True, 1 / 255)
    heads = {"a": HeadSpec("gaussian", dim=2, low=-np.ones(2), high=np.ones(2), squash=True)}
    nets = SACNets(spec.dim, heads, PolicyConfig(), n_cont=2, n_joint=1, image=spec)
    assert isinstance(nets.encoder, ImageEncoder) and nets.encoder.n_out == 64
    assert nets.actor.body[0].in_features == 64 and nets.critic.layers[0].weight.shape[1] == 66
    # the critic loss's parameters include the encoder; the target encoder learns nothing
    assert {id(p) for p in nets.encoder.parameters()} <= {id(p) for p in nets.critic_parameters()}
    assert not any(p.requires_grad for p in nets.encoder_target.parameters())
    obs = torch.rand(4, spec.dim) * 255
    nets.dist(obs).heads["a"].rsample(torch.Generator()).sum().backward()
    assert all(p.grad is None for p in nets.encoder.parameters())  # the actor's: not into it
    assert any(p.grad is not None for p in nets.actor.parameters())
    # Polyak moves the target encoder toward the online one
    with torch.no_grad():
        for p in nets.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in nets.encoder_target.parameters()]
    nets.polyak_(0.5)
    for b, t, o in zip(before, nets.encoder_target.parameters(), nets.encoder.parameters()):
        torch.testing.assert_close(t, (b + o) / 2)
    torch.testing.assert_close(nets.features(obs, target=True), nets.encoder_target(obs))


def test_sac_without_an_image_reads_the_observation_as_it_is():
    from thermorl.envs.spaces import HeadSpec
    from thermorl.nets.sac import SACNets

    nets = SACNets(5, {"a": HeadSpec("categorical", n=3)}, PolicyConfig(), 0, 3)
    assert nets.encoder is None and nets.encoder_target is None
    obs = torch.randn(2, 5)
    assert nets.features(obs) is obs
