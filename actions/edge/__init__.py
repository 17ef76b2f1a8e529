"""The edge: where messages come in (REST views, the AMQP ingress process) and where a
waiting REST client is handed its answer (reply waiters)."""
