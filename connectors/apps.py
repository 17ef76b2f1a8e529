from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Publish each connector's entry to the index (actions.contract.connectors), so the
        # edge can gate on them and the index list them without importing connector code.
        from connectors.catalog import register_all

        register_all()
