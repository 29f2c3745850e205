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
