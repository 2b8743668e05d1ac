"""factory_boy factories shared by all tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from stdnum.cn import uscc

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Staff, StaffRole, Team, Tier
from taxservice.taxpayers.models import Taxpayer


def credit_code(n: int) -> str:
    """A valid unified social credit code built from a sequence number."""
    body = f"91330100{n:09d}"
    return body + uscc.calc_check_digit(body)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"Branch {n}")
    kind = Branch.Kind.SOURCE


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.BASIC
    tier = Tier.BACK
    branch = factory.SubFactory(BranchFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass12345")


class StaffFactory(factory.django.DjangoModelFactory):
    """`StaffFactory(roles=["clerk"], teams=[team])`."""

    class Meta:
        model = Staff
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Staff {n}")
    home_branch = factory.SubFactory(BranchFactory)
    on_duty = True
    capacity = 20

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            StaffRole.objects.create(staff=self, role=role)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if extracted:
            self.teams.add(*extracted)


class TaxpayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Taxpayer

    credit_code = factory.Sequence(lambda n: credit_code(n + 1))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    competent_branch = factory.SubFactory(BranchFactory)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TST{n:03d}")
    name = factory.Sequence(lambda n: f"测试事项{n}")
    handling_list = HandlingList.ASSISTED
    tier = Tier.MIDDLE
    team_kind = Team.Kind.ONLINE_PROCESSING
    time_limit_days = 5
