"""What every hosted environment adds to base.py: no local default for any secret."""

import os

from .base import *  # noqa: F403

SECRET_KEY = os.environ["SWITCHBOARD_SECRET_KEY"]  # hosted environments must set their own
# No fallback to base.py's local broker passwords: base.py built the broker URLs from
# these variables already; here their absence stops the process at start-up.
for _name in (
    "SWITCHBOARD_BROKER_USER_PASSWORD",
    "SWITCHBOARD_BROKER_ADMIN_PASSWORD",
    "SWITCHBOARD_BROKER_CLIENT_PASSWORD",
    "SWITCHBOARD_BROKER_OPERATOR_PASSWORD",
):
    if not os.environ.get(_name):
        raise KeyError(f"{_name} must be set in hosted environments")

# Credentials are sealed with a key-encryption key (connectors/crypto.py): a hosted
# environment never generates one, and does not start without it.
if not (os.environ.get("SWITCHBOARD_KEK") or os.environ.get("SWITCHBOARD_KEK_FILE")):
    raise KeyError("SWITCHBOARD_KEK or SWITCHBOARD_KEK_FILE must be set in hosted environments")
