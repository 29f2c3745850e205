"""Entropy control per action head: schedules, targets, controllers, and the seed-style API."""

from .compat import AutoEntropyLoss
from .controllers import EntropyControl, HeadController, HeadSettings
from .schedules import Schedule
from .targets import Target

__all__ = ["AutoEntropyLoss", "EntropyControl", "HeadController", "HeadSettings", "Schedule",
           "Target"]
