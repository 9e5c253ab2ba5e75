"""Factories and helpers for the compliance tests."""

from __future__ import annotations

from compliance.models import ScriptPurpose
from compliance.services import scripts as script_services
from customers.tests.factories import ProductFactory

CLEAN_WEALTH_BODY = (
    "您好，这款稳健理财产品风险等级为R2，属于非保本浮动收益型产品，业绩比较基准不代表实际收益。"
    "理财非存款、产品有风险、投资须谨慎。"
)


def approved_script(*, author, officer, product=None, title="稳健理财介绍", body=CLEAN_WEALTH_BODY, purpose=None):
    """A script taken through draft → submitted → approved by the services."""
    product = product or ProductFactory(risk_level=2)
    version = script_services.script_create(
        actor=author,
        title=title,
        purpose=purpose or ScriptPurpose.PRODUCT_INTRO,
        body=body,
        product=product,
    )
    script_services.script_submit_for_review(actor=author, version=version)
    return script_services.script_approve(actor=officer, version=version, comment="ok", acknowledge_medium=True)
