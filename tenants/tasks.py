"""Periodic tenancy jobs (beat, maintenance queue): thin entry points over services."""

from celery import shared_task

from tenants import services


@shared_task(name="switchboard.maintenance.superadmin_expire")
def superadmin_expire() -> int:
    """Close and audit super-admin grants past their expiry."""
    return services.superadmin_expire_due()
