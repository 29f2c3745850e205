"""The fused PPO path (hand-written forward and backward, `nets/fused.py`) against autograd:
the same distributions and values, every loss term and every parameter's gradient, on real
rollouts over each action-head kind it takes; the policies it refuses; the flat parameters."""

import numpy as np
import pytest
import torch
from conftest import FAST_DOTTED

import thermorl
from thermorl.nets.flat import FlatParams
from thermorl.nets.fused import unsupported
from thermorl.learners import FusedPPOLearner

CASES = [
    ("CartPole-v1", {}),
    ("Pendulum-v1", {"policy.log_std_init": -0.5}),
    ("spaces_envs:ThermorlSpaces/dict-mask-info-v0", {}),  # masked categoricals + a Gaussian
    ("spaces_envs:ThermorlSpaces/multidiscrete-mask-info-v0", {"policy.activation": "relu"}),
    ("spaces_envs:ThermorlSpaces/tuple-v0", {"ppo.clip_vloss": True, "ppo.norm_adv": False,
                                             "ppo.clip_vloss_coef": 0.05,  # not the surrogate's
                                             "policy.hidden_sizes": [16, 8, 12]}),
    ("spaces_envs:ThermorlSpaces/multibinary-v0", {"ppo.ent_coef": -0.02}),
]


def rollout(env_id, **extra):
    cfg = thermorl.make_config(env_id, **{**FAST_DOTTED, "preset": "none", "seed": 3,
                                          "ppo.ent_coef": 0.05, "ppo.num_steps": 32,
                                          "policy.hidden_sizes": [32, 32], **extra})
    algo = thermorl.PPO(env_id, cfg)
    algo.collector.reset(seed=0)
    algo._collect()
    return algo


@pytest.mark.parametrize("env_id,extra", CASES, ids=[c[0].split("/")[-1] for c in CASES])
@pytest.mark.parametrize("minibatches,numpy", [(1, True), (4, True), (4, False)])
def test_fused_terms_and_gradients_equal_autograds(env_id, extra, minibatches, numpy):
    algo = rollout(env_id, **extra)
    assert isinstance(algo.learner, FusedPPOLearner)
    if not numpy:  # the torch-only path a CUDA device takes
        algo.learner.net._np = None
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # move the policy off the rollout's, so that ratios leave the clip
        algo.learner.net.flat.param.add_(0.1 * torch.randn(algo.learner.net.flat.param.shape, generator=gen))
        algo.buffer.valid[3:5, 0] = 0.0  # some samples are not real transitions
    batches = list(algo.buffer.minibatches(minibatches, gen))
    algo.learner._prepare(batches)  # an epoch's constants at once, as update() does
    fractions = [check_minibatch(algo, mb) for mb in batches]
    assert 0.0 < sum(fractions) / len(fractions) < 1.0  # both surrogate branches are exercised


def check_minibatch(algo, mb):
    coefs = algo.entropy.coefs(0.0)
    clip = 0.1
    ev = algo.learner._evaluate(mb, clip, coefs)
    fused_terms, fused_norm = ev.terms, ev.pending
    params = dict(algo.policy.named_parameters())
    fused_grads = {k: p.grad.clone() for k, p in params.items()}
    loss, auto_terms, *_ = algo.learner._terms(mb, clip, coefs)
    auto_grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))

    assert fused_terms.keys() == auto_terms.keys()  # the same names, whichever learner
    for k, v in fused_terms.items():
        assert v == pytest.approx(float(auto_terms[k].detach()), rel=1e-5, abs=1e-6), k
    for k in params:
        torch.testing.assert_close(fused_grads[k], auto_grads[k], rtol=1e-4, atol=1e-6, msg=k)
        assert auto_grads[k].abs().sum() > 0, k  # every parameter is reached
    norm = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in auto_grads.values()]))
    assert fused_norm == pytest.approx(float(norm), rel=1e-5)
    return float(auto_terms["diag/clip_fraction"].detach())


@pytest.mark.parametrize("env_id,extra", CASES[:4], ids=[c[0].split("/")[-1] for c in CASES[:4]])
def test_fused_forward_equals_the_modules(env_id, extra):
    algo = rollout(env_id, **extra)
    mb = next(algo.buffer.minibatches(1, torch.Generator().manual_seed(0)))
    with torch.no_grad():
        fwd = algo.learner.net.forward(mb.obs, mb.action_masks)
        dist, value = algo.policy(mb.obs, mb.action_masks)
    torch.testing.assert_close(fwd.value, value)
    torch.testing.assert_close(fwd.dist.log_prob(mb.actions), dist.log_prob(mb.actions))
    for h, ent in dist.entropy().items():
        torch.testing.assert_close(fwd.dist.entropy()[h], ent)


def fused_and_autograd_ends(**extra):
    """The flat parameters after 512 CartPole steps through the fused learner, then autograd."""
    ends = []
    for fused in (True, False):
        cfg = thermorl.make_config("CartPole-v1", **{**FAST_DOTTED, "preset": "none",
                                                     "seed": 1, "total_timesteps": 512,
                                                     "ppo.fused": fused, "eval.episodes": 1,
                                                     **extra})
        algo = thermorl.PPO("CartPole-v1", cfg)
        assert isinstance(algo.learner, FusedPPOLearner) == fused
        algo.learn()
        ends.append(torch.cat([p.detach().reshape(-1).cpu() for p in algo.policy.parameters()]))
        algo.close()
    return ends


def test_fused_training_matches_autograd_training():
    """A few updates either way end at nearly the same policy (float rounding only)."""
    ends = fused_and_autograd_ends()
    torch.testing.assert_close(ends[0], ends[1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("extra,reason", [
    ({"ppo.recurrent": "gru"}, "RecurrentActorCritic"),
    ({"policy.squash": True}, "squashed"),
    ({"policy.state_dependent_std": True}, "state-dependent"),
    ({"policy.activation": "elu"}, "activation elu"),
])
def test_policies_the_fused_path_refuses_train_with_autograd(extra, reason):
    cfg = thermorl.make_config("Pendulum-v1", **{**FAST_DOTTED, "preset": "none", **extra})
    algo = thermorl.PPO("Pendulum-v1", cfg)
    assert not isinstance(algo.learner, FusedPPOLearner)
    assert reason in unsupported(algo.policy)
    algo.learn(256)


def test_parameterized_heads_use_autograd():
    env = "spaces_envs:ThermorlSpaces/parameterized-v0"
    cfg = thermorl.make_config(env, **{**FAST_DOTTED, "preset": "none",
                                       "policy.parameterized": {"kind": {0: "jump", 1: "run"}}})
    algo = thermorl.PPO(env, cfg)
    assert not isinstance(algo.learner, FusedPPOLearner) and "parameterized" in unsupported(algo.policy)


def test_flat_params_are_views_that_survive_state_dict_loading():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    params = list(net.parameters())
    flat = FlatParams(params)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])
    assert flat.view(params[0], params[1]).numel() == 16
    with pytest.raises(AssertionError, match="next to each other"):
        flat.view(params[0], params[2])
    net.load_state_dict({k: v + 1 for k, v in before.items()})  # copies into the flat storage
    assert torch.equal(flat.param.data[:12], (before["0.weight"] + 1).reshape(-1))
    flat.grad.fill_(2.0)
    assert torch.equal(params[2].grad, torch.full((2, 4), 2.0))
    with torch.no_grad():
        assert np.isfinite(float(net(torch.ones(1, 3)).sum()))


@pytest.mark.parametrize("env_id,extra", CASES[:4], ids=[c[0].split("/")[-1] for c in CASES[:4]])
def test_acting_in_numpy_equals_the_modules(env_id, extra):
    algo = rollout(env_id, **extra)
    mb = next(algo.buffer.minibatches(1, torch.Generator().manual_seed(0)))
    with torch.inference_mode():
        dist, value = algo.learner.net.act(mb.obs, mb.action_masks)
        ref_dist, ref_value = algo.policy(mb.obs, mb.action_masks)
    assert algo.learner.net._np is not None  # the numpy path ran
    torch.testing.assert_close(value, ref_value, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dist.log_prob(mb.actions), ref_dist.log_prob(mb.actions),
                               rtol=1e-5, atol=1e-5)


def test_checkpoints_round_trip_and_a_pre_fused_one_says_how_to_resume(tmp_path):
    from thermorl import checkpoint
    from thermorl.errors import ThermorlError

    for fused in (True, False):
        cfg = thermorl.make_config("CartPole-v1", **{**FAST_DOTTED, "preset": "none",
                                                     "total_timesteps": 256, "ppo.fused": fused,
                                                     "eval.episodes": 1})
        algo = thermorl.PPO("CartPole-v1", cfg).learn()
        back = thermorl.PPO.load(algo.save(tmp_path / f"{fused}.pt"))
        assert isinstance(back.learner, FusedPPOLearner) == fused
        for a, b in zip(algo.policy.parameters(), back.policy.parameters()):
            assert torch.equal(a, b)
        back.learn(512)  # and it trains on from there
    # a checkpoint written before `ppo.fused` existed: autograd's optimizer, no such key
    state = checkpoint.load(tmp_path / "False.pt")
    lines = state["config"].splitlines(keepends=True)
    state["config"] = "".join(x for x in lines if x.strip() != "fused: false")
    checkpoint.save(state, tmp_path / "old.pt")
    with pytest.raises(ThermorlError, match="--ppo.fused false"):
        thermorl.PPO.load(tmp_path / "old.pt")
