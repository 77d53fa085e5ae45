"""All tables, for migrations: importing the model modules registers them on Base."""

from __future__ import annotations

import domain.accounts.models  # noqa: F401
import engine.models  # noqa: F401
import handlers.models  # noqa: F401
from engine.db import Base

metadata = Base.metadata
