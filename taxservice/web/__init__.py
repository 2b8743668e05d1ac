"""The browser pages shared by every tier: sign-in, home, my tasks, cases and tasks.

Not an app (it has no models); its templates live in the project's templates/ folder.
"""
