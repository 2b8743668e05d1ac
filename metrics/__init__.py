"""Monitoring indicators, KPIs and the weekly report.

Empty in the foundation: indicators are computed from the transition log in their
own issue. `metrics` reads the core and depends on no tier app.
"""
