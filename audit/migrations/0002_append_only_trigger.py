"""The database refuses to change or remove admin audit entries, whoever asks.

Only a role that can switch triggers off (`session_replication_role = replica`,
`ALTER TABLE ... DISABLE TRIGGER`: a superuser or the table owner) gets past this; the
hash chain (audit/chain.py) shows what such a role changed.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the admin audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_adminauditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_adminauditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_adminauditentry_no_truncate
    BEFORE TRUNCATE ON audit_adminauditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_adminauditentry_no_truncate ON audit_adminauditentry;
DROP TRIGGER IF EXISTS audit_adminauditentry_no_update_delete ON audit_adminauditentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_admin_audit_entry")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
