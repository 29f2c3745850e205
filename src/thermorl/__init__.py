"""thermorl: PPO for PyTorch with the policy's entropy as a first-class, controllable quantity."""

from .algos import PPO
from .algos.base import TrainingInterrupted
from .algos.ppo import make_config
from .config import Config, EvalConfig, LogConfig, PolicyConfig, PPOConfig
from .errors import ConfigError, EnvError, ThermorlError, TrainingDiverged

__version__ = "0.1.0"

__all__ = ["PPO", "Config", "ConfigError", "EnvError", "EvalConfig", "LogConfig", "PPOConfig",
           "PolicyConfig", "ThermorlError", "TrainingDiverged", "TrainingInterrupted",
           "make_config"]
