"""Dashboards for every level: the funnel end to end, remote-centre operations and the
branch view, each in the viewer's own scope."""
