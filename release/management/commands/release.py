"""`manage.py release <verb>`: the release process (docs/release.md).

Verbs: status, select, unselect, build, promote, revert, diff, transition. `--json` prints
the data instead of the lines. Exit codes: 0 done; 1 refused (each broken rule is
printed); 2 bad usage (unknown action or environment); 3 `status` found drift.
"""

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.contract.errors import ActionError
from config.environments import ENVIRONMENTS
from release import services
from release.states import State

EXIT_REFUSED, EXIT_USAGE, EXIT_DRIFT = 1, 2, 3


class Command(BaseCommand):
    help = "The release process: lifecycle transitions, manifests per environment, builds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--by", default=None, help="who (default: the system user)")
        # Where the release state lives (default: the repository's files); for tests.
        parser.add_argument("--states-file", type=Path, default=services.REPOSITORY.states)
        parser.add_argument("--manifest-dir", type=Path, default=services.REPOSITORY.manifests)
        parser.add_argument("--build-dir", type=Path, default=services.REPOSITORY.build)
        # The same two options after the verb (`release status --json`).
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        common.add_argument("--by", default=argparse.SUPPRESS)
        subparsers = parser.add_subparsers(dest="verb", required=True)

        class Verbs:
            @staticmethod
            def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
                return subparsers.add_parser(name, parents=[common], **kwargs)  # type: ignore[list-item]

        verbs = Verbs()
        verbs.add_parser("status", help="every action x environment")
        for name in ("select", "unselect"):
            verb = verbs.add_parser(name, help=f"{name} actions for the next build")
            verb.add_argument("--env", required=True, choices=ENVIRONMENTS)
            verb.add_argument("actions", nargs="+", metavar="ACTION[@V]")
        build = verbs.add_parser("build", help="pin the selection and write the artifact")
        build.add_argument("--env", required=True, choices=ENVIRONMENTS)
        promote = verbs.add_parser("promote", help="release what one environment releases")
        promote.add_argument("--from", dest="source", required=True, choices=ENVIRONMENTS)
        promote.add_argument("--to", dest="target", required=True, choices=ENVIRONMENTS)
        promote.add_argument("actions", nargs="*", metavar="ACTION[@V]")
        revert = verbs.add_parser("revert", help="back to the previous manifest")
        revert.add_argument("--env", required=True, choices=ENVIRONMENTS)
        revert.add_argument("action", nargs="?", metavar="ACTION[@V]")
        revert.add_argument("--why", default="")
        diff = verbs.add_parser("diff", help="what two environments release differently")
        diff.add_argument("first", choices=ENVIRONMENTS)
        diff.add_argument("second", choices=ENVIRONMENTS)
        transition = verbs.add_parser("transition", help="move an action's lifecycle state")
        transition.add_argument("action", metavar="ACTION[@V]")
        transition.add_argument("state", choices=[s.value for s in State])
        transition.add_argument("--why", required=True)

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        files = services.Files(
            states=options["states_file"],
            manifests=options["manifest_dir"],
            build=options["build_dir"],
        )
        by = options["by"] or getpass.getuser()
        try:
            if verb == "status":
                self._status(services.release_status(files=files), options["json"])
                return
            outcome = self._run(verb, options, by, files)
        except services.ReleaseRefused as exc:
            self._fail(options["json"], exc.reasons, EXIT_REFUSED)
        except ActionError as exc:  # an unknown action
            self._fail(options["json"], [exc.message], EXIT_USAGE)
        if options["json"]:
            self.stdout.write(json.dumps(outcome.data, indent=2, default=str))
        else:
            for line in outcome.lines:
                self.stdout.write(line)

    def _run(self, verb: str, o: dict[str, Any], by: str, files: services.Files):
        if verb in ("select", "unselect"):
            step = services.release_select if verb == "select" else services.release_unselect
            return step(environment=o["env"], refs=o["actions"], files=files)
        if verb == "build":
            return services.release_build(environment=o["env"], by=by, files=files)
        if verb == "promote":
            return services.release_promote(
                source=o["source"], target=o["target"], refs=o["actions"], by=by, files=files
            )
        if verb == "revert":
            return services.release_revert(
                environment=o["env"], ref=o["action"], by=by, why=o["why"], files=files
            )
        if verb == "diff":
            return services.release_diff(first=o["first"], second=o["second"], files=files)
        return services.release_transition(
            ref=o["action"], target=o["state"], why=o["why"], by=by, files=files
        )

    def _fail(self, as_json: bool, reasons: list[str], code: int) -> None:
        if as_json:
            self.stdout.write(json.dumps({"refused": reasons}, indent=2))
        error = CommandError("refused:\n  " + "\n  ".join(reasons))
        error.returncode = code
        raise error

    def _status(self, status: dict[str, Any], as_json: bool) -> None:
        drifting = [
            (row["action"], env)
            for row in status["actions"]
            for env, where in row["environments"].items()
            if where["drift"]
        ] + [(d["action"], env) for env, gone in status["missing"].items() for d in gone]
        if as_json:
            self.stdout.write(json.dumps(status, indent=2, default=str))
        else:
            self._table(status)
            for action, env in drifting:
                self.stdout.write(f"DRIFT {action} in {env}: its code differs from the pin")
        if drifting:
            sys.exit(EXIT_DRIFT)

    def _table(self, status: dict[str, Any]) -> None:
        short = {"local_dev": "dev", "local_test": "test", "local_qa": "qa"}
        short |= {"hosted_test": "h-test", "hosted_live": "h-live"}
        heads = [short[e] for e in status["environments"]]
        self.stdout.write(
            f"{'action':34} {'state':17} {'hash':16} " + " ".join(f"{h:8}" for h in heads) + " req"
        )
        for row in status["actions"]:
            cells = []
            for env in status["environments"]:
                where = row["environments"][env]
                cell = "all" if where["released"] and not where["pinned"] else "-"
                if where["pinned"]:
                    cell = "DRIFT" if where["drift"] else "pinned"
                elif where["selected"]:
                    cell = "selected"
                cells.append(f"{cell:8}")
            self.stdout.write(
                f"{row['action']:34} {row['state']:17} {row['hash']} "
                + " ".join(cells)
                + f" {len(row['open_requests'])}"
            )
        self.stdout.write("all: runs every action there; pinned: in the manifest at its hash")
