"""Every write to the tables the access statement reads notifies `switchboard_access`:
the processes that cache its rows (tenants/access_cache.py) empty their cache on it."""

from django.db import migrations

TABLES = [
    "tenants_user",
    "tenants_tenant",
    "tenants_membership",
    "tenants_superadmingrant",
    "tenants_revokedtoken",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION switchboard_access_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_access', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""

TRIGGER = """
CREATE TRIGGER switchboard_access_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION switchboard_access_changed();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0005_tenant_connector_subscriptions")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS switchboard_access_changed();"),
        *(
            migrations.RunSQL(
                TRIGGER.format(table=table),
                f"DROP TRIGGER IF EXISTS switchboard_access_changed ON {table};",
            )
            for table in TABLES
        ),
    ]
