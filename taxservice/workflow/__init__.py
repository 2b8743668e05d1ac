"""The workflow component: cases and tasks (`cases`) and the hub that routes them (`routing`).

The two Django apps are one component: a transition may screen a task (routing's engine),
and the hub's writes make transitions. Inside the component the modules layer one way
(models → engine/policy/transitions → services → tasks); `pyproject.toml`'s import-linter
contracts keep it so. See docs/architecture.md.
"""
