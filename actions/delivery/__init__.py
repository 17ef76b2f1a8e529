"""Between edge and worker: the outbox publishing accepted actions to RabbitMQ in
confirmed batches, and replies to waiting clients."""
