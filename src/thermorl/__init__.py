"""thermorl: PPO and SAC for PyTorch with the policy's entropy as a first-class, controllable quantity."""

from .algos import PPO, SAC
from .algos.base import TrainingInterrupted
from .algos.ppo import make_config
from .config import Config, EvalConfig, LogConfig, PolicyConfig, PPOConfig, SACConfig
from .errors import ConfigError, EnvError, ThermorlError, TrainingDiverged

__version__ = "0.1.0"

__all__ = ["PPO", "SAC", "SACConfig", "Config", "ConfigError", "EnvError", "EvalConfig", "LogConfig", "PPOConfig",
           "PolicyConfig", "ThermorlError", "TrainingDiverged", "TrainingInterrupted",
           "make_config"]
