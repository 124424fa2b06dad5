"""Statement files are imported by a worker (issue #14): ``queued`` and
``importing`` before their lines exist, ``failed`` (with ``error``) when the
worker refused or lost them; a failed file no longer holds its bytes, so the
same file may be sent again."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="statementfile",
            name="statement_file_unique_per_source",
        ),
        migrations.AddField(
            model_name="historicalstatementfile",
            name="error",
            field=models.TextField(blank=True, verbose_name="error"),
        ),
        migrations.AddField(
            model_name="historicalstatementfile",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="import started at"),
        ),
        migrations.AddField(
            model_name="statementfile",
            name="error",
            field=models.TextField(blank=True, verbose_name="error"),
        ),
        migrations.AddField(
            model_name="statementfile",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="import started at"),
        ),
        migrations.AlterField(
            model_name="historicalstatementfile",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("importing", "Importing"),
                    ("open", "Lines in suspense"),
                    ("reconciled", "Reconciled"),
                    ("failed", "Failed"),
                ],
                default="open",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="statementfile",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("importing", "Importing"),
                    ("open", "Lines in suspense"),
                    ("reconciled", "Reconciled"),
                    ("failed", "Failed"),
                ],
                default="open",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="statementfile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "failed"), _negated=True),
                fields=("source", "sha256"),
                name="statement_file_unique_per_source",
            ),
        ),
    ]
