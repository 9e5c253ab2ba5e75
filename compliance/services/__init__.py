"""Writes of the compliance feature, one module per sub-domain:

- ``scripts``: scripts and their versions, the automatic check, submit, approve, reject,
  revise and retire, with review evidence;
- ``lexicon``: lexicon rules and their versioned changelog;
- ``surveillance``: communication snapshots, their scan into flags, interactions,
  rescans of a date range;
- ``flags``: the review of flags: claim, release, escalate, close, bulk close;
- ``qa``: the QA sampling settings and the weekly sample;
- ``reports``: the record of report exports.

Every service is atomic, takes ``actor=`` (those run by a task take ids), asks the
predicates of ``compliance.access`` (so no view can forget), writes evidence rows where a
review happened and records an audit event in the same transaction.
"""
