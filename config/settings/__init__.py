"""Settings: one base module and one module per environment.

The environment is named by `SWITCHBOARD_ENV` (config/environments.py), which the entry
points turn into DJANGO_SETTINGS_MODULE=config.settings.<environment>; setting
DJANGO_SETTINGS_MODULE directly still works. Each module names its environment with
`environment(...)`, which refuses an unknown or contradicting `SWITCHBOARD_ENV`; the
release manifests are looked up by that name (release/runtime.py).
"""
