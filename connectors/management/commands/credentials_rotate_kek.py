"""`manage.py credentials_rotate_kek`: rewrap every credential's data key (all tenants)
with a new key-encryption key; no ciphertext changes, no credential is lost.

Key file (local environments, or SWITCHBOARD_KEK_FILE): a new key is written to
`<file>.next` first (every process reads the ring from the files, so it unwraps rows
rewrapped already), the rows are rewrapped, then `<file>` becomes `<file>.previous` and
`<file>.next` becomes `<file>`. A run that stopped half-way is finished by running it
again (rows already on the new key are left alone).

SWITCHBOARD_KEK in the environment: deploy the new key as SWITCHBOARD_KEK_NEXT to every
process first, run this, then make it SWITCHBOARD_KEK (the old one SWITCHBOARD_KEK_PREVIOUS
until every process restarted).
"""

import os

from django.core.management.base import BaseCommand, CommandError

from connectors import crypto
from connectors.credentials import rotate_all


class Command(BaseCommand):
    help = "Rewrap every credential's data key with a new key-encryption key."

    def handle(self, *args, **options):
        ring = crypto.keyring()
        if ring.source == "env":
            text = os.environ.get("SWITCHBOARD_KEK_NEXT")
            if not text:
                raise CommandError("set SWITCHBOARD_KEK_NEXT (and give it to every process) first")
            target = crypto.decode_key(text, "SWITCHBOARD_KEK_NEXT")
            done = rotate_all(ring=ring, target=target)
            self._report(done, target)
            self.stdout.write("now make SWITCHBOARD_KEK_NEXT the SWITCHBOARD_KEK of every process")
            return
        path = crypto.key_file()
        following = path.with_name(path.name + ".next")
        if not following.exists():
            crypto.write_key_file(following, crypto.new_key_text())
        ring = crypto.keyring()  # now with the next key
        target = crypto.decode_key(following.read_text(), str(following))
        done = rotate_all(ring=ring, target=target)
        # Credentials created meanwhile were wrapped by the current key: pass again until
        # none is left on it, before that key stops being the current one.
        while sum(rotate_all(ring=crypto.keyring(), target=target).values()):
            pass
        previous = path.with_name(path.name + ".previous")
        os.replace(path, previous)
        os.replace(following, path)
        self._report(done, target)
        self.stdout.write(f"the old key is kept in {previous}; delete it once you have a backup")

    def _report(self, done: dict[str, int], target: bytes) -> None:
        self.stdout.write(
            f"rewrapped {sum(done.values())} data keys in {len(done)} schemas with KEK "
            f"{crypto.kek_id(target)}"
        )
