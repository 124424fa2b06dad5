"""``policies/``: presets, validation through the model, administrator writes."""

from decimal import Decimal

import pytest

from cases.models import CollectionPolicy
from cases.policy_presets import CN_WATERFALL, US_WATERFALL
from tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/"


def test_post_with_only_a_jurisdiction_starts_from_the_cn_preset(api):
    response = api.post(URL, {"jurisdiction": "CN"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "CN preset"
    assert body["currency"] == "CNY"
    assert body["penalty_daily_rate"] == "0.000500"
    assert body["cost_cap_annual_rate"] == "0.2400"
    assert body["waterfall"] == CN_WATERFALL
    assert body["bucket_edges"] == [30, 60, 90, 120, 150, 180]
    assert CollectionPolicy.objects.get(pk=body["id"]).grace_days == 3


def test_post_with_a_jurisdiction_and_name_starts_from_the_us_preset(api):
    response = api.post(URL, {"jurisdiction": "US", "name": "US cards"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "US cards"
    assert body["currency"] == "USD"
    assert body["waterfall"] == US_WATERFALL
    assert body["accrue_after_charge_off"] is False
    assert body["cost_cap_annual_rate"] is None
    assert body["limitation_years"] == 6


def test_second_unnamed_preset_policy_gets_a_free_name(api):
    api.post(URL, {"jurisdiction": "CN"}, format="json")

    response = api.post(URL, {"jurisdiction": "CN"}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "CN preset 2"


def test_fields_given_with_the_jurisdiction_override_the_preset(api):
    response = api.post(
        URL, {"jurisdiction": "CN", "grace_days": 5, "late_fee_fixed": "30.00"}, format="json"
    )

    assert response.status_code == 201
    policy = CollectionPolicy.objects.get(pk=response.json()["id"])
    assert policy.grace_days == 5
    assert str(policy.late_fee_fixed) == "30.00"
    assert policy.penalty_daily_rate == Decimal("0.000500")


def test_waterfall_that_leaves_out_a_component_is_refused(api):
    response = api.post(
        URL,
        {"jurisdiction": "CN", "waterfall": ["legal_cost", "fees", "interest", "principal"]},
        format="json",
    )

    assert response.status_code == 400
    assert "penalty" in response.json()["waterfall"][0]
    assert not CollectionPolicy.objects.exists()


def test_waterfall_with_an_unknown_step_is_refused(api):
    response = api.post(URL, {"jurisdiction": "CN", "waterfall": ["everything"]}, format="json")

    assert response.status_code == 400
    assert "waterfall" in response.json()
    assert not CollectionPolicy.objects.exists()


def test_post_without_a_jurisdiction_is_refused(api):
    response = api.post(URL, {"name": "nowhere"}, format="json")

    assert response.status_code == 400
    assert "jurisdiction" in response.json()
    assert not CollectionPolicy.objects.exists()


def test_administrator_group_member_may_change_a_policy(administrator_api):
    policy = PolicyFactory()

    response = administrator_api.patch(f"{URL}{policy.pk}/", {"grace_days": 7}, format="json")

    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.grace_days == 7
    assert policy.history.latest().history_change_reason == "policy changed through the API"


def test_changing_bucket_edges_to_a_decreasing_list_is_refused(api):
    policy = PolicyFactory()

    response = api.patch(f"{URL}{policy.pk}/", {"bucket_edges": [60, 30]}, format="json")

    assert response.status_code == 400
    assert "bucket_edges" in response.json()
    policy.refresh_from_db()
    assert policy.bucket_edges == [30, 60, 90, 120, 150, 180]


def test_changing_the_waterfall_to_miss_a_component_is_refused(api):
    policy = PolicyFactory()

    response = api.patch(f"{URL}{policy.pk}/", {"waterfall": ["fees", "penalty"]}, format="json")

    assert response.status_code == 400
    policy.refresh_from_db()
    assert policy.waterfall == CN_WATERFALL


def test_user_outside_the_administrator_group_may_read_but_not_write(clerk_api):
    policy = PolicyFactory()

    assert clerk_api.get(URL).json()["results"][0]["id"] == policy.pk
    assert clerk_api.post(URL, {"jurisdiction": "CN"}, format="json").status_code == 403
    assert clerk_api.patch(f"{URL}{policy.pk}/", {"grace_days": 9}, format="json").status_code == 403
    assert CollectionPolicy.objects.count() == 1
    policy.refresh_from_db()
    assert policy.grace_days == 3


def test_policies_cannot_be_deleted(api):
    policy = PolicyFactory()

    assert api.delete(f"{URL}{policy.pk}/").status_code == 405
    assert CollectionPolicy.objects.filter(pk=policy.pk).exists()


def test_staff_without_view_permission_sees_no_policies(outsider_api):
    policy = PolicyFactory()

    assert outsider_api.get(URL).json()["results"] == []
    assert outsider_api.get(f"{URL}{policy.pk}/").status_code == 404


def test_policy_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    PolicyFactory.create_batch(5)

    with django_assert_max_num_queries(2):
        response = api.get(URL)

    assert response.json()["count"] == 5
