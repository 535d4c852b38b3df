import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, custom format) and the media files into a new folder, with a manifest "
        "of every table's row count and the stock ledger's checksum. Connects with the admin URL, since the "
        "application's role is bound by row-level security."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", type=Path, default=Path(settings.BACKUP_DIR), help="folder the backup's own folder is made in"
        )
        parser.add_argument(
            "--admin-url",
            default=os.environ.get("DATABASE_ADMIN_URL", ""),
            help="a superuser or BYPASSRLS role on the server (default: $DATABASE_ADMIN_URL)",
        )
        parser.add_argument("--no-media", action="store_true", help="the database only")

    def handle(self, *_args: Any, **options: Any) -> None:
        if not options["admin_url"]:
            raise CommandError(
                "Set DATABASE_ADMIN_URL or pass --admin-url: the application's role cannot see every row."
            )
        try:
            folder = backup_create(
                destination=options["to"],
                admin_url=options["admin_url"],
                database=str(connection.settings_dict["NAME"]),
                storage=None if options["no_media"] else default_storage,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(folder))
