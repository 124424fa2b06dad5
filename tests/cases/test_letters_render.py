"""Demand letters: what they say (context, to the cent) and that the PDF is
real — Chinese text set in an embedded Noto CJK font, drawn as glyphs."""

import re
import subprocess
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image, ImageChops

from cases.letters import letter_context, render_demand_letter, render_demand_letter_html
from cases.letters.context import postal_address
from cases.models import Creditor, Debt
from cases.services.close_of_business import close_chunk
from cases.services.payments import post_payment
from tests.factories import (
    ContactPointFactory,
    CreditorFactory,
    CustomerFactory,
    PolicyFactory,
    ProductFactory,
)
from tests.factories import make_debt as place

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 20)
ZH_TITLE = "催缴通知书"
VALIDATION_SENTENCE = "to dispute all or part of the debt"
TIME_BARRED = (
    "The law limits how long you can be sued on a debt. Because of the age of your debt, "
    "Lakeside Credit Union cannot sue you for it."
)


def close(debt, day):
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)


def make_letter_debt(jurisdiction: str = "CN") -> Debt:
    """A debt of the default schedule (3 × 1000.00 principal + 50.00 interest,
    due 31 Jan, 2 Mar, 1 Apr 2026) closed through 15 March, paid 300.00 on
    16 March and closed through 20 March, with a postal address."""
    if jurisdiction == "US":
        creditor = CreditorFactory(
            name="Lakeside Credit Union",
            address="200 Main Street, Springfield, IL 62701",
            phone="+1 217 555 0100",
            email="collections@lakeside.example.com",
        )
        policy = PolicyFactory(jurisdiction="US", currency="USD")
        customer = CustomerFactory(
            name="Jane Doe", jurisdiction="US", preferred_language="en", time_zone="America/Chicago"
        )
        address = "1428 Elm Street, Springfield, IL 62704"
    else:
        creditor = CreditorFactory(
            name="华信消费金融有限公司",
            address="上海市浦东新区世纪大道100号20层",
            phone="400-820-1234",
            email="service@huaxin.example.cn",
        )
        policy = PolicyFactory()
        customer = CustomerFactory(name="王小明")
        address = "北京市朝阳区建国路88号3号楼1201室"
    ContactPointFactory(customer=customer, kind="address", value=address)
    debt = place(product=ProductFactory(creditor=creditor, policy=policy), customer=customer)
    close(debt, date(2026, 3, 15))
    post_payment(debt=debt, amount="300.00", received_on=date(2026, 3, 16), reference=f"LTR-{debt.pk}")
    close(debt, TODAY)
    debt.refresh_from_db()
    return debt


def amounts(lines) -> dict[str, Decimal]:
    return {line.key: line.amount for line in lines}


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


@pytest.fixture
def cn_debt():
    return make_letter_debt("CN")


@pytest.fixture
def us_debt():
    return make_letter_debt("US")


# --- context ------------------------------------------------------------------


def test_cn_context_itemises_the_balance_to_the_cent_after_close_of_business_and_a_payment(cn_debt):
    context = letter_context(debt=cn_debt, language="zh-hans", today=TODAY)
    # Penalty to 15 Mar 26.50; the 300.00 paid it, the 100.00 overdue interest
    # and 173.50 principal; then 5 days × 0.05 % × 1826.50 overdue = 5 × 0.91.
    assert amounts(context["balances"]) == {
        "principal": Decimal("2826.50"),
        "interest": Decimal("0.00"),
        "penalty": Decimal("4.55"),
        "fees": Decimal("0.00"),
        "total": Decimal("2831.05"),
    }
    assert context["total_display"] == "CNY 2,831.05"
    assert context["total"] == cn_debt.total_balance
    assert context["days_past_due"] == 48
    assert context["date_of_first_delinquency"] == date(2026, 2, 1)
    assert context["account_number"] == cn_debt.account_number
    assert context["address"] == "北京市朝阳区建国路88号3号楼1201室"
    assert context["payee"] == "华信消费金融有限公司"
    assert context["payment_reference"] == cn_debt.account_number
    assert context["dispute_within_days"] == 30


def test_context_balances_are_those_of_the_business_date(cn_debt):
    context = letter_context(debt=cn_debt, language="zh-hans", today=date(2026, 3, 15))
    assert amounts(context["balances"]) == {
        "principal": Decimal("3000.00"),
        "interest": Decimal("100.00"),
        "penalty": Decimal("26.50"),
        "fees": Decimal("0.00"),
        "total": Decimal("3126.50"),
    }


def test_cn_payment_deadline_is_the_business_date_plus_the_configured_days(cn_debt):
    assert letter_context(debt=cn_debt, language="zh-hans", today=TODAY)["deadline"] == date(2026, 4, 3)
    later = letter_context(debt=cn_debt, language="zh-hans", today=TODAY, deadline_days=21)
    assert later["deadline"] == date(2026, 4, 10)


def test_cn_context_has_no_validation_notice_and_no_time_barred_disclosure(cn_debt):
    Debt.objects.filter(pk=cn_debt.pk).update(limitation_on=date(2026, 1, 1))
    context = letter_context(debt=cn_debt, language="en", today=TODAY)
    assert context["validation"] is None
    assert context["time_barred"] is False
    assert context["debt_collector_disclosure"] is False


def test_us_validation_itemises_since_the_opening_date_and_ends_35_days_later(us_debt):
    context = letter_context(debt=us_debt, language="en", today=TODAY)
    validation = context["validation"]
    assert validation["end_date"] == date(2026, 4, 24)
    assert validation["itemization"]["date"] == date(2026, 1, 1)
    assert amounts(validation["itemization"]["lines"]) == {
        "itemization_amount": Decimal("3000.00"),
        "interest": Decimal("100.00"),
        "penalty": Decimal("0.00"),
        "fees": Decimal("0.00"),
        "payments_and_credits": Decimal("-300.00"),
        "total": Decimal("2800.00"),
    }
    assert amounts(context["balances"])["total"] == Decimal("2800.00") == us_debt.total_balance


def test_us_payment_deadline_never_falls_inside_the_validation_period(us_debt):
    context = letter_context(debt=us_debt, language="en", today=TODAY, deadline_days=14)
    assert context["deadline"] == context["validation"]["end_date"] == date(2026, 4, 24)


def test_us_debt_is_time_barred_only_once_its_limitation_date_has_passed(us_debt):
    Debt.objects.filter(pk=us_debt.pk).update(limitation_on=TODAY)
    assert letter_context(debt=us_debt, language="en", today=TODAY)["time_barred"] is False
    Debt.objects.filter(pk=us_debt.pk).update(limitation_on=date(2026, 3, 19))
    assert letter_context(debt=us_debt, language="en", today=TODAY)["time_barred"] is True


def test_letter_goes_to_the_primary_address_never_to_a_do_not_contact_one(cn_debt):
    customer = cn_debt.customer
    customer.contact_points.update(primary=False)
    ContactPointFactory(customer=customer, kind="address", value="上海市静安区1号", do_not_contact=True)
    primary = ContactPointFactory(customer=customer, kind="address", value="上海市徐汇区2号", primary=True)
    assert postal_address(cn_debt) == primary
    primary.do_not_contact = True
    primary.save()
    assert postal_address(cn_debt).value == "北京市朝阳区建国路88号3号楼1201室"


def test_unknown_letter_language_is_refused(cn_debt):
    with pytest.raises(ValueError):
        letter_context(debt=cn_debt, language="fr", today=TODAY)


def test_values_from_records_are_escaped_in_the_letter(cn_debt):
    customer = cn_debt.customer
    customer.name = '<img src="file:///etc/passwd">'
    customer.save()
    html = render_demand_letter_html(debt=cn_debt, language="zh-hans", today=TODAY)
    assert "<img" not in html and "&lt;img" in html


# --- PDF ----------------------------------------------------------------------


def test_zh_pdf_text_has_the_chinese_title_the_account_number_and_the_total(cn_debt):
    pdf = render_demand_letter(debt=cn_debt, language="zh-hans", today=TODAY)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert ZH_TITLE in text
    assert cn_debt.account_number in text
    assert "CNY 2,831.05" in text
    assert "2026年4月3日" in text  # the payment deadline


def test_zh_pdf_embeds_a_noto_cjk_font(cn_debt, tmp_path):
    path = tmp_path / "zh.pdf"
    path.write_bytes(render_demand_letter(debt=cn_debt, language="zh-hans", today=TODAY))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    names = [row[0].split("+", 1)[-1].replace("-", "") for row in rows]
    assert any(name.startswith(("NotoSansCJK", "NotoSerifCJK")) for name in names), fonts
    # Every font is embedded (column "emb"): nothing left to the reader's fallback.
    assert all(row[-5] == "yes" for row in rows), fonts


def _title_box(pdf_path) -> tuple[float, float, float, float]:
    """The bounding box (points) of the title on page 1, from pdftotext -bbox."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf_path), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xhtml
    )
    for start in range(len(words)):
        text, boxes = "", []
        for *box, word in words[start:]:
            text += word
            boxes.append([float(v) for v in box])
            if not ZH_TITLE.startswith(text) or text == ZH_TITLE:
                break
        if text == ZH_TITLE:
            return (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
    raise AssertionError(f"{ZH_TITLE} not found on page 1")


def test_zh_title_is_drawn_with_real_glyphs_not_tofu(cn_debt, tmp_path):
    path = tmp_path / "zh.pdf"
    path.write_bytes(render_demand_letter(debt=cn_debt, language="zh-hans", today=TODAY))
    png = subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path)], capture_output=True, check=True
    ).stdout
    page = Image.open(BytesIO(png)).convert("L")
    scale = 50 / 72
    x0, y0, x1, y1 = (round(v * scale) for v in _title_box(path))
    title = page.crop((x0, y0, x1, y1))
    dark = sum(title.histogram()[:128])
    assert dark > 0.05 * title.width * title.height
    # A missing glyph is drawn as the same box for every character: the five
    # characters of the title must all look different.
    width = title.width / len(ZH_TITLE)
    cells = [title.crop((round(i * width), 0, round((i + 1) * width), title.height)) for i in range(5)]
    cells = [cell.resize(cells[0].size) for cell in cells]
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            assert ImageChops.difference(cells[i], cells[j]).getbbox() is not None, (i, j)


def test_en_pdf_is_produced(cn_debt):
    pdf = render_demand_letter(debt=cn_debt, language="en", today=TODAY)
    text = pdf_text(pdf)
    assert "Demand for Payment" in text
    assert "CNY 2,831.05" in text


def test_us_letter_carries_the_validation_notice(us_debt):
    text = pdf_text(render_demand_letter(debt=us_debt, language="en", today=TODAY))
    assert f"Call or write to us by April 24, 2026 {VALIDATION_SENTENCE}" in text
    assert "request the name and address of the original creditor" in text
    assert "You have the right to dispute this debt within 30 days" in text
    assert "As of January 1, 2026, you owed USD 3,000.00" in text
    assert "USD -300.00" in text and "USD 2,800.00" in text
    assert "This communication is from a debt collector" in text
    assert "cannot sue you" not in text


def test_time_barred_us_letter_carries_the_disclosure(us_debt):
    Debt.objects.filter(pk=us_debt.pk).update(limitation_on=date(2026, 1, 1))
    text = pdf_text(render_demand_letter(debt=us_debt, language="en", today=TODAY))
    assert TIME_BARRED in text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_cn_letter_has_no_us_validation_notice(cn_debt, language):
    Debt.objects.filter(pk=cn_debt.pk).update(limitation_on=date(2026, 1, 1))
    text = pdf_text(render_demand_letter(debt=cn_debt, language=language, today=TODAY))
    assert VALIDATION_SENTENCE not in text
    assert "original creditor" not in text
    assert "cannot sue you" not in text


# --- contact channels (issue #16) -------------------------------------------------

ZH_CONTACT = "请通过以下方式与我们联系"


def creditor_reached_by(debt, **channels):
    """Set the creditor's phone, email and address: blank unless given."""
    fields = {"phone": "", "email": "", "address": ""} | channels
    Creditor.objects.filter(pk=debt.creditor_id).update(**fields)


def zh_text(debt) -> str:
    """The Chinese letter's text without whitespace: a CJK line can wrap
    between any two characters."""
    return "".join(pdf_text(render_demand_letter(debt=debt, language="zh-hans", today=TODAY)).split())


def en_text(debt) -> str:
    return pdf_text(render_demand_letter(debt=debt, language="en", today=TODAY))


def test_zh_letter_of_a_creditor_without_contact_channel_leaves_the_contact_sentences_out(cn_debt):
    creditor_reached_by(cn_debt)
    assert letter_context(debt=cn_debt, language="zh-hans", today=TODAY)["has_contact_channel"] is False
    text = zh_text(cn_debt)
    assert ZH_CONTACT not in text
    assert "：。" not in text and "欢迎与我们联系" not in text
    # How a dispute is handled is still said.
    assert "如您对上述欠款的存在或金额有异议，我们将自收到异议之日起30日内完成核实并答复您" in text


def test_en_letter_of_a_creditor_without_contact_channel_leaves_the_contact_sentences_out(cn_debt):
    creditor_reached_by(cn_debt)
    text = en_text(cn_debt)
    assert "contact us" not in text.lower()
    assert "If you dispute this debt, we will look into it and answer you within 30 days" in text


def test_us_letter_without_contact_channel_does_not_point_at_missing_contact_details(us_debt):
    creditor_reached_by(us_debt)
    text = en_text(us_debt)
    assert "contact us" not in text.lower()
    assert "contact details above" not in text
    assert VALIDATION_SENTENCE in text


def test_letters_of_a_creditor_with_only_a_phone_give_the_phone(cn_debt):
    creditor_reached_by(cn_debt, phone="400-820-1234")
    assert f"{ZH_CONTACT}：电话400-820-1234。我们将" in zh_text(cn_debt)
    text = en_text(cn_debt)
    assert "the amount is wrong, contact us by phone at 400-820-1234. We will look into it" in text
    assert "contact us to discuss a payment plan" in text


def test_letters_of_a_creditor_with_only_an_address_ask_for_a_letter(cn_debt):
    creditor_reached_by(cn_debt, address="上海市浦东新区世纪大道100号")
    assert f"{ZH_CONTACT}：来函至上海市浦东新区世纪大道100号。" in zh_text(cn_debt)
    # Whitespace removed: the address may wrap at any character.
    assert "contactusbywritingto上海市浦东新区世纪大道100号." in "".join(en_text(cn_debt).split())


def test_letters_of_a_creditor_with_every_channel_list_them_all(cn_debt):
    text = zh_text(cn_debt)
    assert (
        f"{ZH_CONTACT}：电话400-820-1234，邮箱service@huaxin.example.cn，或来函至上海市浦东新区世纪大道100号20层。"
        in text
    )
    en = en_text(cn_debt)
    assert "contact us by phone at 400-820-1234 or by email at service@huaxin.example.cn, or write to" in en
    assert "orwriteto上海市浦东新区世纪大道100号20层." in "".join(en.split())  # the address may wrap
