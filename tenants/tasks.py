"""Tenancy jobs on the maintenance queue (beat's periodic ones, and mails queued by
actions): thin entry points over services."""

from celery import shared_task

from tenants import services


@shared_task(name="switchboard.maintenance.superadmin_expire")
def superadmin_expire() -> int:
    """Close and audit super-admin grants past their expiry."""
    return services.superadmin_expire_due()


@shared_task(name="switchboard.maintenance.password_reset_mail")
def password_reset_mail(*, email: str) -> bool:
    """The mail of `auth.forgot` (queued after its commit). True if an account got one;
    a mail failure fails the task (central error log), never the action."""
    from tenants.accounts import password_reset_request

    return password_reset_request(email=email) is not None
