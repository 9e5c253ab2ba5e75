"""Writes of the customer domain, one module per sub-domain. Each service is atomic, takes
``actor=`` where a person acts, and audits in the same transaction."""
