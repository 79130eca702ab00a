"""Accounts: an access key `LOCALKEY<12 digits>` is that account, so dev and prod can be separate.

moto 5.2.5 maps only the access keys its own IAM issued; every other key is account
123456789012.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.iam import models

from ..safety import account_of_access_key

if TYPE_CHECKING:
    from ..server import LocalCloud


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    original = models.get_account_id_from

    def get_account_id_from(access_key: str) -> str:
        return account_of_access_key(access_key) or original(access_key)

    models.get_account_id_from = get_account_id_from
