import os

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("THERMORL_TEST", "1")


@pytest.fixture(autouse=True)
def _seed():
    # torch's thread count is process-wide and a run with `torch_threads` sets it; restored after
    # each test so that a test's float rounding (and so a chaotic learning outcome) does not
    # depend on which tests its worker ran before it
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


# Slow learning tests run first, longest first; with `--dist worksteal` (pyproject) an idle
# worker takes over pending tests, so the two share the long ones instead of one worker
# running the long tail alone after the quick tests are done.
LONGEST_FIRST = ("test_dogfight_learning", "test_sac_learning", "test_ppo_learning",
                 "test_entropy_learning", "test_noise_learning")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        if item.get_closest_marker("slow") is None:
            return (1, 0)
        module = item.module.__name__.rsplit(".", 1)[-1]
        return (0, LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: within a rank, the collected order stays
