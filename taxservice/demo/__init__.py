"""The demo city behind `manage.py seed_demo`.

It sits above the whole core (organisation, taxpayers, catalogue, the workflow) and
builds its data through the core's services; nothing in the core imports it.
"""
