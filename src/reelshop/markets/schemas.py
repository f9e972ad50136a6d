from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MarketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    currency: str
    default_locale: str
    locales: list[str]
    timezone: str
    onboarding_mode: str
    rollout_stage: str
    handling_days: int
