"""Consent becomes three-valued (issue #15): ``None`` is "unknown", for
numbers a skip trace found and nobody has verified yet. Existing rows keep
their value. Going back, an unknown consent becomes ``False`` (not
consented): the safe reading of "nobody asked"."""

from django.db import migrations, models


def unknown_to_not_consented(apps, schema_editor):
    for name in ("ContactPoint", "HistoricalContactPoint"):
        apps.get_model("customers", name).objects.filter(consent__isnull=True).update(consent=False)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="contactpoint",
            options={
                "ordering": ["customer_id", "-primary", "id"],
                "permissions": [("verify_contactpoint", "Can verify a contact point and record its consent")],
            },
        ),
        migrations.AlterField(
            model_name="contactpoint",
            name="consent",
            field=models.BooleanField(
                default=True,
                help_text="Unknown (empty): skip-traced, not contacted until verified.",
                null=True,
                verbose_name="consent",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcontactpoint",
            name="consent",
            field=models.BooleanField(
                default=True,
                help_text="Unknown (empty): skip-traced, not contacted until verified.",
                null=True,
                verbose_name="consent",
            ),
        ),
        # Runs first when migrating back, before the columns become NOT NULL.
        migrations.RunPython(migrations.RunPython.noop, unknown_to_not_consented),
    ]
