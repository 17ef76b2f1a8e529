"""Tenancy jobs on the maintenance queue (beat's periodic ones, and mails queued by
actions): thin entry points over services."""

from celery import shared_task
from django.db import transaction

from config.queues import MAINTENANCE_QUEUE, maintenance_key
from tenants.accounts import password_reset_request

# The module, not the package: the package's services import tenants.accounts, which
# queues password_reset_mail from here (no import circle).
from tenants.services.superadmin import superadmin_expire_due


@shared_task(name="switchboard.maintenance.superadmin_expire")
def superadmin_expire() -> int:
    """Close and audit super-admin grants past their expiry."""
    return superadmin_expire_due()


@shared_task(name="switchboard.maintenance.password_reset_mail")
def password_reset_mail(*, email: str) -> bool:
    """The mail of `auth.forgot` (queued after its commit). True if an account got one;
    a mail failure fails the task (central error log), never the action."""
    return password_reset_request(email=email) is not None


def password_reset_request_later(*, email: str) -> None:
    """`auth.forgot`: the reset mail is prepared and sent by a maintenance task after the
    caller's transaction commits, so the caller's answer and its timing never depend on
    whether the account exists or the mail server answers."""
    transaction.on_commit(
        lambda: password_reset_mail.apply_async(
            kwargs={"email": email},
            queue=MAINTENANCE_QUEUE,
            routing_key=maintenance_key("mail"),
        ),
        robust=True,  # a broker failure is logged, never the caller's error
    )
