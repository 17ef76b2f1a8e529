"""config.db's batches on the real database: ASYNC_COMMIT switches the WAL flush off for
its own batch only, and without PostgreSQL's "SET LOCAL can only be used in transaction
blocks" warning (a plain SET LOCAL in a pipeline's implicit transaction takes effect but
writes that warning to the server log at every batch: the outbox's marks and every claim
of the long way)."""

from django.db import connection

from config.db import ASYNC_COMMIT, execute_prepared_batch

SHOW = ("SELECT current_setting('synchronous_commit')", (), "show")


def test_async_commit_holds_for_its_batch_only_and_warns_nothing():
    connection.ensure_connection()
    notices = []

    def notice(diag):
        notices.append(diag.message_primary)

    connection.connection.add_notice_handler(notice)
    try:
        (_, _), ((inside,), _) = execute_prepared_batch([ASYNC_COMMIT, SHOW])
        ((after,), _) = execute_prepared_batch([SHOW])[0]
    finally:
        connection.connection.remove_notice_handler(notice)
    assert (inside, after) == ("off", "on")
    assert notices == []
