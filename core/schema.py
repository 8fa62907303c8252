"""Imports every model module so Base.metadata knows every table (migrations, tests)."""

from core import models, models_durable, models_scheduler, models_slack, models_texting
from core.models import Base

metadata = Base.metadata

__all__ = [
    "Base",
    "metadata",
    "models",
    "models_durable",
    "models_scheduler",
    "models_slack",
    "models_texting",
]
