from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class ReleaseConfig(AppConfig):
    name = "release"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from config.environments import artifact_environment
        from release import runtime

        built_for = artifact_environment()
        if built_for is not None and built_for != settings.SWITCHBOARD_ENV:
            raise ImproperlyConfigured(
                f"This artifact was built for {built_for}, not {settings.SWITCHBOARD_ENV}."
            )
        runtime.warn_drift_at_start()
