"""Who may manage the integration: admins only."""

from __future__ import annotations

from typing import Any

from portal.accounts.policies import is_admin


def can_manage_api_keys(actor: Any) -> bool:
    return is_admin(actor)


def can_manage_webhooks(actor: Any) -> bool:
    return is_admin(actor)
