"""An env that cannot be made because its module needs a package this machine lacks is a
one-line error naming the package, not a traceback."""

import gymnasium as gym
import pytest

from thermorl.envs import make_vector_env
from thermorl.errors import EnvError


def test_an_env_whose_module_needs_a_missing_package_is_a_clear_error():
    if "ThermorlTest/NeedsMissing-v0" not in gym.registry:
        gym.register("ThermorlTest/NeedsMissing-v0",
                     entry_point="thermorl_no_such_package.envs:Env")
    with pytest.raises(EnvError, match=r"env 'ThermorlTest/NeedsMissing-v0' could not be made: "
                                       r"it needs the package 'thermorl_no_such_package', which "
                                       r"is not installed .*pip install thermorl_no_such_package"):
        make_vector_env("ThermorlTest/NeedsMissing-v0", 2)
