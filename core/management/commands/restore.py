import os
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into a fresh database (all or nothing) and its media "
        "files, then check every table's row count and the stock ledger's checksum against the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="the folder `manage.py backup` printed")
        parser.add_argument(
            "--database",
            default="",
            help="the database to restore into; it must have no tables (default: the configured one)",
        )
        parser.add_argument("--create", action="store_true", help="create the database if it does not exist")
        parser.add_argument(
            "--admin-url",
            default=os.environ.get("DATABASE_ADMIN_URL", ""),
            help="a superuser or BYPASSRLS role on the server (default: $DATABASE_ADMIN_URL)",
        )
        parser.add_argument("--no-media", action="store_true", help="the database only")

    def handle(self, *_args: Any, **options: Any) -> None:
        if not options["admin_url"]:
            raise CommandError(
                "Set DATABASE_ADMIN_URL or pass --admin-url: restoring needs a role past row-level security."
            )
        database = options["database"] or str(connection.settings_dict["NAME"])
        try:
            manifest = backup_restore(
                folder=options["folder"],
                admin_url=options["admin_url"],
                database=database,
                create=options["create"],
                storage=None if options["no_media"] else default_storage,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"restored {len(manifest['tables'])} tables ({rows} rows) into {database}; "
            "row counts and the ledger checksum match the backup"
        )
