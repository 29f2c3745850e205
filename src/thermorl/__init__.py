"""thermorl: PPO and SAC for PyTorch with the policy's entropy as a first-class, controllable quantity."""

from .algos import PPO, SAC
from .algos.base import TrainingInterrupted
from .callbacks import Callback, StopOnReturn
from .config import Config, EvalConfig, LogConfig, PolicyConfig, PPOConfig, SACConfig
from .config_io import make_config
from .errors import ConfigError, EnvError, RunFileError, ThermorlError, TrainingDiverged
from .rundir import RunDirBusy

__version__ = "0.1.0"

__all__ = ["PPO", "SAC", "SACConfig", "Callback", "Config", "ConfigError", "EnvError",
           "EvalConfig", "LogConfig", "PPOConfig", "PolicyConfig", "RunDirBusy", "RunFileError",
           "StopOnReturn", "ThermorlError", "TrainingDiverged", "TrainingInterrupted", "make_config"]
