import pytest

from customers.tests.factories import ProductFactory
from org.roles import Role
from org.tests.factories import make_staff
from referrals import services

from .factories import high_lead


@pytest.fixture
def lead(world):
    return high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)


@pytest.fixture
def referral(world, lead):
    return services.referral_create(actor=world.advisor_a, lead=lead, needs_summary="50 万到期，想面谈配置")


@pytest.fixture
def accepted(world, referral):
    return services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x)


@pytest.fixture
def rm_x2(world):
    return make_staff(Role.BRANCH_RM, username="rm_x2", branch=world.branch_x, display_name="李经理")


@pytest.fixture
def rm_y(world):
    return make_staff(Role.BRANCH_RM, username="rm_y", branch=world.branch_y)


@pytest.fixture
def product(db):
    return ProductFactory(code="WM-STABLE", name="稳健理财 180 天", risk_level=2)
