"""Writes of lead scoring, one module per sub-domain: ``outcomes`` (what contacts came to),
``scores`` (rescoring one customer or everyone, pooled leads), ``versions`` (training,
activation), ``settings`` (cutoffs, cold-start rules). The tasks in ``scoring.tasks``
only load ids and call them."""
