from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from merchants import tenancy
from merchants.closure import ClosureError, closure_plan, merchant_close_execute, merchant_retained_purge
from merchants.models import ClosureStatus, MerchantClosure


class Command(BaseCommand):
    help = (
        "The platform operator's side of closing a shop: without arguments, list the owners' open requests; "
        "with a request id, show what would be deleted and kept; with --yes as well, execute it (audited)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("request", nargs="?", type=int, help="the id of the owner's request")
        parser.add_argument(
            "--operator", default="", help="who confirms; written to the audit log (required with --yes)"
        )
        parser.add_argument("--yes", action="store_true", help="execute the request: this cannot be undone")
        parser.add_argument(
            "--purge-expired",
            action="store_true",
            help="delete the tax records of closed shops whose retention has ended (a daily job)",
        )

    def handle(self, *_args: Any, **options: Any) -> None:
        if options["purge_expired"]:
            if not options["operator"].strip():
                raise CommandError("Name the operator (--operator); it goes into the audit log.")
            purged = merchant_retained_purge(operator=options["operator"])
            self.stdout.write(f"{len(purged)} closed shops' tax records deleted: {purged}")
            return
        if options["request"] is None:
            self._list(options["operator"] or "manage.py merchant_close")
            return
        if not options["yes"]:
            plan = closure_plan()
            self.stdout.write("Kept for tax law, anonymised: " + ", ".join(m._meta.label for m in plan.kept))
            self.stdout.write("Deleted: " + ", ".join(m._meta.label for m in plan.deleted))
            self.stdout.write("Nothing was changed. Run again with --yes --operator NAME to execute the request.")
            return
        try:
            closure = merchant_close_execute(closure_id=options["request"], operator=options["operator"])
        except ClosureError as error:
            raise CommandError(str(error)) from error
        deleted = sum(entry.get("deleted", 0) for entry in closure.summary["tables"].values())
        kept = sum(entry.get("kept", 0) for entry in closure.summary["tables"].values())
        self.stdout.write(
            f"Closed merchant {closure.merchant_id}: {deleted} rows deleted, {kept} kept until {closure.retain_until}, "
            f"{closure.summary['files_deleted']} files deleted, {closure.summary['users_anonymised']} staff anonymised."
        )

    def _list(self, actor: str) -> None:
        with tenancy.platform_access(reason="list open requests to close a shop", actor=actor):
            requests = list(
                MerchantClosure.objects.filter(status=ClosureStatus.REQUESTED)
                .select_related("merchant", "requested_by")
                .order_by("requested_at")
            )
        if not requests:
            self.stdout.write("No open requests.")
        for closure in requests:
            self.stdout.write(
                f"{closure.pk}\t{closure.merchant.slug}\t{closure.requested_at:%Y-%m-%d %H:%M}\t"
                f"{closure.requested_by}\t{closure.reason}"
            )
