"""Settings: one base module and one module per environment.

The environment is chosen by DJANGO_SETTINGS_MODULE (config.settings.<environment>);
`SWITCHBOARD_ENV` inside each module names it for the release manifests.
"""
