"""The monthly Metro 2 furnishing as a django-celery-beat entry, and the CN
pre-notification message templates (RULES.md §6).

Beat runs ``cases.bureau.tasks.furnish_month`` at 03:00 on the 2nd of every
month in ``settings.TIME_ZONE`` (close of business for the month's last day
has run by then); it reports the month before. Operators may move or
disable the entry in the admin. The templates (code ``bureau-prenotice``,
SMS and letter, English and Simplified Chinese) are created only where
missing and may be edited like any other. The reverse removes the entry
(and its crontab when nothing else uses it) and the templates no message
refers to.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASK_NAME = "Monthly credit bureau furnishing (Metro 2)"
TASK_PATH = "cases.bureau.tasks.furnish_month"
CRONTAB = {"minute": "0", "hour": "3", "day_of_week": "*", "day_of_month": "2", "month_of_year": "*"}
TEMPLATE_CODE = "bureau-prenotice"
TEMPLATES = [
    (
        "sms",
        "zh-hans",
        "",
        "【{{ creditor }}】尊敬的{{ customer_name }}，您的账户{{ account_number }}已逾期{{ days_past_due }}天，"
        "欠款{{ currency }} {{ balance }}。根据征信业管理规定，如不及时还款，逾期信息将报送征信机构。"
        "{{ how_to_pay }}{{ opt_out }}",
    ),
    (
        "sms",
        "en",
        "",
        "{{ creditor }}: account {{ account_number }} is {{ days_past_due }} days past due "
        "({{ currency }} {{ balance }}). Unless paid, this will be reported to credit bureaus. "
        "{{ how_to_pay }} {{ opt_out }}",
    ),
    (
        "letter",
        "zh-hans",
        "征信报送提示",
        "尊敬的{{ customer_name }}：您在{{ creditor }}的账户{{ account_number }}已逾期{{ days_past_due }}天，"
        "欠款{{ currency }} {{ balance }}。如不及时还款，逾期信息将报送征信机构。{{ how_to_pay }}",
    ),
    (
        "letter",
        "en",
        "Notice of credit bureau reporting",
        "Dear {{ customer_name }}, your account {{ account_number }} with {{ creditor }} is "
        "{{ days_past_due }} days past due ({{ currency }} {{ balance }}). Unless it is paid, "
        "this will be reported to credit bureaus. {{ how_to_pay }}",
    ),
]


def _schedule_changed(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab = CrontabSchedule.objects.filter(**CRONTAB, timezone=settings.TIME_ZONE).first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**CRONTAB, timezone=settings.TIME_ZONE)
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK_PATH,
            "crontab": crontab,
            "interval": None,
            "solar": None,
            "clocked": None,
            "args": "[]",
            "kwargs": "{}",
            "enabled": True,
            "one_off": False,
            "description": (
                "Generates and sends each creditor's Metro 2 file for the previous month, "
                "once per creditor and month (RULES.md §6)."
            ),
        },
    )
    _schedule_changed(apps)
    MessageTemplate = apps.get_model("cases", "MessageTemplate")
    for channel, language, subject, body in TEMPLATES:
        MessageTemplate.objects.get_or_create(
            code=TEMPLATE_CODE, channel=channel, language=language, defaults={"subject": subject, "body": body}
        )


def delete(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab_ids = list(PeriodicTask.objects.filter(name=TASK_NAME).values_list("crontab_id", flat=True))
    PeriodicTask.objects.filter(name=TASK_NAME).delete()
    CrontabSchedule.objects.filter(pk__in=[pk for pk in crontab_ids if pk], periodictask__isnull=True).delete()
    _schedule_changed(apps)
    MessageTemplate = apps.get_model("cases", "MessageTemplate")
    MessageTemplate.objects.filter(code=TEMPLATE_CODE, messages__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bureau", "0001_initial"),
        ("cases", "0005_messages_and_dunning"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create, delete)]
