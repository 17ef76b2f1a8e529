"""Security events: refused requests (hostile input, rate limits), one JSON line each in
`<logs>/security.jsonl`, never with the refused value itself."""

import logging

from audit.files import bounded, now_iso, safe_append, security_log_path


def security_event(
    *,
    category: str,
    path: str | None,
    tenant: str | None,
    actor: str | None,
    action: str | None,
    source: str,
    code: str,
) -> None:
    """A refused request (hostile input, rate limit): never the raw value."""
    entry = {
        "at": now_iso(),
        "category": bounded(category),
        "path": bounded(path, 200),
        "tenant": bounded(tenant),
        "actor": bounded(actor, 254),
        "action": bounded(action),
        "source": bounded(source),
        "code": str(code),
    }
    safe_append(security_log_path(), entry)
    logging.getLogger("switchboard.security").warning("%s %s %s", code, category, path)
