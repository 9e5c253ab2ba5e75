"""Writes of campaigns, one module per sub-domain: the lifecycle and its approvals
(``lifecycle``), segments (``segments``). Atomic, actor first, audited."""
