"""factory_boy factories shared by every test package."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cases.models import CollectionPolicy, Creditor, Product, Team
from cases.policy_presets import preset
from cases.services.placement import place_debt
from customers.models import ContactPoint, Customer, ThirdPartyContact


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw-Ledgerline-1")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    kind = Customer.Kind.PERSON
    name = factory.Faker("name", locale="zh_CN")
    national_id = factory.Sequence(lambda n: f"11010119900101{n:04d}")
    jurisdiction = "CN"
    preferred_language = "zh-hans"
    time_zone = "Asia/Shanghai"


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactPoint.Kind.PHONE
    value = factory.Sequence(lambda n: f"+86138{n:08d}")
    verified = True
    primary = True


class ThirdPartyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThirdPartyContact

    customer = factory.SubFactory(CustomerFactory)
    relationship = ThirdPartyContact.Relationship.RELATIVE
    name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")


class CreditorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creditor

    name = factory.Sequence(lambda n: f"Creditor {n}")
    short_code = factory.Sequence(lambda n: f"CR{n}")


class PolicyFactory(factory.django.DjangoModelFactory):
    """A policy from the jurisdiction preset; override any field by keyword."""

    class Meta:
        model = CollectionPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    jurisdiction = "CN"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        values = preset(kwargs.get("jurisdiction", "CN"))
        values.update(kwargs)
        return super()._create(model_class, *args, **values)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Instalment loan {n}")
    creditor = factory.SubFactory(CreditorFactory)
    policy = factory.SubFactory(PolicyFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


def make_debt(
    *,
    product=None,
    customer=None,
    opened_on=date(2026, 1, 1),
    instalments=None,
    account_number=None,
    actor=None,
    **policy_overrides,
):
    """Place a debt through the real service. Default schedule: three monthly
    instalments of 1000.00 principal and 50.00 interest."""
    if product is None:
        product = ProductFactory(policy=PolicyFactory(**policy_overrides))
    customer = customer or CustomerFactory()
    if instalments is None:
        instalments = [
            {
                "due_on": opened_on + timedelta(days=30 * n),
                "principal": Decimal("1000.00"),
                "interest": Decimal("50.00"),
            }
            for n in (1, 2, 3)
        ]
    make_debt.counter += 1
    return place_debt(
        creditor=product.creditor,
        product=product,
        customer=customer,
        account_number=account_number or f"ACC{make_debt.counter:07d}",
        currency=product.policy.currency,
        opened_on=opened_on,
        instalments=instalments,
        actor=actor,
        placed_on=opened_on,
    )


make_debt.counter = 0


def sees_all_rows(user):
    """Put ``user`` in the Supervisor group without granting its permissions.

    ``backoffice.access`` gives a user with no role no rows at all; tests
    that exercise model permissions alone use this for the row scope of a
    role that sees every row, keeping exactly the permissions they granted.
    """
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name="Supervisor")[0])
    return user
