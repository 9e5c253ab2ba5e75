"""The demo's wealth-report wording, through the real compliance workflow (create,
submit, approve), so reports can be generated on day one."""

from __future__ import annotations

from compliance.models import Script, ScriptPurpose
from compliance.services.scripts import script_approve, script_create, script_submit_for_review
from customers.models import ProductType

REPORT_SCRIPT_TITLE = "年度财富报告：致客户"
REPORT_SCRIPT_BODY = (
    "尊敬的客户：感谢您过去一年对我行的信任。以下是您本年度的资产情况、持仓与到期安排、风险测评状态，"
    "以及按适当性要求可向您介绍的产品。\n"
    "如对报告内容有疑问，或风险承受能力发生变化，请联系您的理财经理，我们将为您重新评估。\n"
    "温馨提示：理财非存款、产品有风险、投资须谨慎。"
)


def seed_report_script(*, author, officer) -> int:
    """The wealth-report wording written by ``author`` and approved by ``officer``; left
    alone when it is there (by title). Returns how many scripts were created."""
    if Script.objects.filter(title=REPORT_SCRIPT_TITLE).exists():
        return 0
    version = script_create(
        actor=author,
        title=REPORT_SCRIPT_TITLE,
        purpose=ScriptPurpose.WEALTH_REPORT,
        body=REPORT_SCRIPT_BODY,
        product_type=ProductType.WEALTH,
    )
    version = script_submit_for_review(actor=author, version=version)
    script_approve(actor=officer, version=version, acknowledge_medium=True)
    return 1
