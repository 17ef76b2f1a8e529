from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from actions.connections import spread_max_age
        from actions.contract import registry

        registry.load_catalog()
        connection_created.connect(spread_max_age, dispatch_uid="actions.spread_max_age")
