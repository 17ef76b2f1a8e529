"""The worker: Celery tasks, the executor that runs a record inside its tenant's schema,
the boot step that binds a worker to one channel, and record retention."""
