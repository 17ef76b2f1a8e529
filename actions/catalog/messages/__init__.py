"""Messages: sending to a lead by email, SMS, WhatsApp or an internal note (user channel)."""
