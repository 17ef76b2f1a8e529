"""The admin channel: its worker, exchange and queue, and the operator dashboard."""
