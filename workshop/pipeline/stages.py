"""Which environment a name means: dev, staging or prod, as people spell them."""

from __future__ import annotations

import re
from typing import Literal

Stage = Literal["dev", "staging", "prod"]
STAGES: tuple[Stage, ...] = ("dev", "staging", "prod")
STAGE_NAMES: dict[str, Stage] = {"dev": "dev", "development": "dev", "staging": "staging", "stage": "staging",
                                 "test": "staging", "prod": "prod", "production": "prod"}
_STAGE_IN_NAME = re.compile(r"(?<![a-z])(development|dev|staging|stage|test|production|prod)(?![a-z])")


def stage_of(text: str | None) -> Stage | None:
    """dev, staging or prod for a name that says so (`production`, `template-staging`, `shop-dev`)."""
    if not text:
        return None
    lowered = text.lower()
    if lowered in STAGE_NAMES:
        return STAGE_NAMES[lowered]
    found = _STAGE_IN_NAME.findall(lowered)
    return STAGE_NAMES[found[-1]] if found else None
