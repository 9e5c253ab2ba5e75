"""Writes of the customer domain, one module per sub-domain: ``customers`` (hand edits),
``interactions``, ``tags``, ``privacy`` (PIPL records, reveal, export), ``imports``,
``contact`` (opt-outs) and ``access`` (the grants the apps above keep). Each service is
atomic, takes ``actor=`` where a person acts, and audits in the same transaction."""
