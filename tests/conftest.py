import os

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("THERMORL_TEST", "1")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
