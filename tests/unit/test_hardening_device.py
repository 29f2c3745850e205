"""SAC draws its learner's noise with a generator on the tensors' device (a CPU generator cannot
draw CUDA tensors). There is no GPU here: the pairing is checked with a stand-in generator."""

import torch

import thermorl
from thermorl.algos import base
from thermorl.algos.base import generator_on


class DeviceGenerator:
    """Stands in for torch.Generator(device) where the device does not exist."""

    def __init__(self, device):
        self.device = torch.device(device)

    def manual_seed(self, seed):
        self.seed = seed
        return self


def test_generator_on_a_device_is_that_devices(monkeypatch):
    cpu = torch.Generator().manual_seed(1)
    assert generator_on(torch.device("cpu"), cpu, 7) is cpu  # CPU runs draw as before
    monkeypatch.setattr(base.torch, "Generator", DeviceGenerator)
    g = generator_on(torch.device("cuda", 1), cpu, 7)
    assert g.device == torch.device("cuda", 1) and g.seed == 7


def test_sac_learner_draws_with_a_generator_of_its_device(monkeypatch):
    cfg = thermorl.make_config("Pendulum-v1", algo="sac",
                               **{"log.progress": "off", "sac.buffer_size": 64})
    sac = thermorl.SAC("Pendulum-v1", cfg)
    assert sac.learner.gen is sac.learn_gen
    assert sac.learn_gen.device == sac.device == next(sac.policy.parameters()).device
    assert sac._state()["learn_gen"] is None  # on the CPU: the shuffle generator, saved already
    # on another device (here as if it were CUDA), the learner gets that device's generator,
    # not the CPU shuffle one
    monkeypatch.setattr(base.torch, "Generator", _cpu_or(DeviceGenerator))
    made = []

    def as_if_cuda(device, cpu_gen, seed):
        made.append(generator_on(torch.device("cuda"), cpu_gen, seed))
        return made[-1]

    monkeypatch.setattr(thermorl.algos.sac, "generator_on", as_if_cuda)
    sac = thermorl.SAC("Pendulum-v1", cfg)
    assert sac.learner.gen is made[0] and made[0].device.type == "cuda"
    assert sac.learner.gen is not sac.shuffle_gen


def _cpu_or(fake):
    """torch.Generator for the CPU (and the run's own generators), `fake` for any other
    device."""
    real = torch._C.Generator

    def make(device="cpu"):
        return real(device) if torch.device(device).type == "cpu" else fake(device)

    return make


def test_restore_generator_takes_a_state_of_its_kind_and_reseeds_on_another():
    from thermorl.checkpoint import restore_generator

    saved = torch.Generator().manual_seed(3)
    state = saved.get_state()
    g = torch.Generator().manual_seed(0)
    assert restore_generator(g, state, reseed=9)
    assert torch.equal(torch.rand(4, generator=g), torch.rand(4, generator=saved))
    cuda_like = torch.zeros(16, dtype=torch.uint8)  # a CUDA generator's state: seed and offset
    assert not restore_generator(g, cuda_like, reseed=9)
    assert g.initial_seed() == 9


def test_a_checkpoint_from_another_kind_of_device_resumes_from_a_new_seed(tmp_path):
    from thermorl import checkpoint

    cfg = thermorl.make_config("CartPole-v1", total_timesteps=128, **{
        "log.progress": "off", "log.tensorboard": False, "eval.freq": 0, "eval.episodes": 1,
        "ppo.num_envs": 2, "ppo.num_steps": 64})
    algo = thermorl.PPO("CartPole-v1", cfg, run_dir=tmp_path / "run").learn()
    path = algo.save(tmp_path / "a.pt")
    algo.close()
    same = thermorl.PPO.load(path)
    assert not same.moved_device
    same.close()
    state = checkpoint.load(path)
    state["sample_gen"] = torch.zeros(16, dtype=torch.uint8)  # as a CUDA run writes it
    checkpoint.save(state, tmp_path / "b.pt")
    moved = thermorl.PPO.load(tmp_path / "b.pt", total_timesteps=256)
    assert moved.moved_device and moved.sample_gen.initial_seed() == cfg.seed + 128
    moved.learn()
    assert moved.global_step == 256
    moved.close()
