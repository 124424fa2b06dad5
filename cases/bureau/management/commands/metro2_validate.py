"""``manage.py metro2_validate FILE``: field-level errors of any Metro 2 file.

Prints one line per problem (line, segment, field, value, why) and exits
non-zero when there is any.
"""

from django.core.management.base import BaseCommand, CommandError

from cases.bureau.reader import validate_metro2


class Command(BaseCommand):
    help = "Check a Metro 2 (426-character) file field by field."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, encoding="ascii", errors="replace", newline="") as handle:
                errors = validate_metro2(handle)
                lines = handle.tell()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        for error in errors:
            self.stdout.write(
                f"line {error.line}\t{error.segment}\t{error.field}\t{error.value!r}\t{error.why}"
            )
        if errors:
            raise CommandError(f"{len(errors)} error(s) in {path}.")
        self.stdout.write(self.style.SUCCESS(f"{path}: valid Metro 2 ({lines} bytes)."))
