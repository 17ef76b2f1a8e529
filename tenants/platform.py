"""The platform and the public schema: the message envelope names the public schema
`platform` (platform-scoped and account actions, their logs); PostgreSQL and
django-tenants call it `settings.PUBLIC_SCHEMA_NAME`. The one place that maps the two."""

from django.conf import settings

PLATFORM = "platform"


def slug_for_schema(schema: str) -> str:
    """The envelope's tenant slug of a schema: `platform` for the public schema."""
    return PLATFORM if schema == settings.PUBLIC_SCHEMA_NAME else schema


def schema_for_slug(slug: str) -> str:
    """The schema of an envelope's tenant slug: the public schema for `platform`."""
    return settings.PUBLIC_SCHEMA_NAME if slug == PLATFORM else slug
