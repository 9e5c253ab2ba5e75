"""factory_boy factories for the customer domain and staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from customers import models as m
from org.tests.factories import BranchFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    customer_no = factory.Sequence(lambda n: f"C{n:010d}")
    name = factory.Faker("name", locale="zh_CN")
    gender = m.Gender.FEMALE
    birth_date = dt.date(1975, 5, 20)
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    mobile_last4 = factory.LazyAttribute(lambda o: o.mobile[-4:])
    id_number = factory.Sequence(lambda n: f"31010119750520{n:04d}")
    id_last4 = factory.LazyAttribute(lambda o: o.id_number[-4:])
    city = "上海"
    occupation = "企业职员"
    education = "本科"
    marital_status = "已婚"
    aum = Decimal("200000.00")
    tier = factory.LazyAttribute(lambda o: m.tier_for_aum(o.aum))
    home_branch = factory.SubFactory(BranchFactory)
    lifecycle_stage = m.LifecycleStage.MATURE
    risk_level = 3
    risk_assessed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class RiskAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.RiskAssessment

    customer = factory.SubFactory(CustomerFactory)
    level = 3
    assessed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    channel = m.AssessmentChannel.MOBILE
    completed_by_customer = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Product

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"稳健理财{n}号")
    type = m.ProductType.WEALTH
    risk_level = 2
    min_amount = Decimal("10000.00")
    benchmark_low = Decimal("2.500")
    benchmark_high = Decimal("3.200")
    term_days = 180
    on_shelf = True


class HoldingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Holding

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    amount = Decimal("50000.00")
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=150))
    maturity_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class AssetSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.AssetSnapshot

    customer = factory.SubFactory(CustomerFactory)
    date = factory.Sequence(lambda n: timezone.localdate() - dt.timedelta(days=n))
    aum = Decimal("200000.00")
    deposits = Decimal("100000.00")
    wealth = Decimal("100000.00")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Tag
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tag_{n}")
    name = factory.Sequence(lambda n: f"标签{n}")
    category = m.TagCategory.PREFERENCE
    source = m.TagSource.RULE


class CustomerTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CustomerTag

    customer = factory.SubFactory(CustomerFactory)
    tag = factory.SubFactory(TagFactory)
    source = m.TagSource.RULE


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Interaction
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    channel = m.Channel.PHONE
    direction = m.Direction.OUTBOUND
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    summary = "客户对理财到期再投资有兴趣"

    @factory.post_generation
    def intent_rows(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        """The session's intents as their own rows, as ``interaction_record`` writes them."""
        if create:
            m.InteractionIntent.objects.bulk_create(
                m.InteractionIntent(
                    interaction=obj, customer_id=obj.customer_id, intent=code, occurred_at=obj.occurred_at
                )
                for code in dict.fromkeys(obj.intents or [])
            )


class ContactPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ContactPreference

    customer = factory.SubFactory(CustomerFactory)
    channel = m.Channel.PHONE
    consent = True


class FundFlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.FundFlow

    customer = factory.SubFactory(CustomerFactory)
    direction = m.FlowDirection.IN
    amount = Decimal("10000.00")
    occurred_at = factory.LazyFunction(timezone.now)
    channel = m.FlowChannel.TRANSFER
    external_id = factory.Sequence(lambda n: f"FLOW-{n}")
