"""The verified-token cache (tenants.tokens): a token verified once is not verified again,
yet an expired, tampered or wrong-kind token is refused exactly as without the cache."""

import time
from types import SimpleNamespace

import jwt
import pytest
from django.conf import settings

from tenants import tokens
from tenants.tokens import InvalidToken, token_decode


def _token(*, exp_in: float, kind: str = "access", jti: str = "j1") -> str:
    now = int(time.time())
    claims = {
        "iss": settings.SWITCHBOARD["JWT_ISSUER"],
        "sub": "7",
        "jti": jti,
        "typ": kind,
        "iat": now,
        "exp": now + exp_in,
    }
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=tokens.ALGORITHM)


def test_a_verified_token_is_verified_once(monkeypatch):
    token = _token(exp_in=60)
    assert token_decode(token)["sub"] == "7"
    calls = []
    monkeypatch.setattr(tokens.jwt, "decode", lambda *a, **k: calls.append(a))
    claims = token_decode(token)
    assert claims["jti"] == "j1" and calls == []
    claims["sub"] = "changed by a caller"  # a copy: the cache keeps its own
    assert token_decode(token)["sub"] == "7"


def test_a_cached_token_that_expired_is_refused(monkeypatch):
    token = _token(exp_in=30)
    token_decode(token)
    later = time.time() + 31
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: later))
    with pytest.raises(InvalidToken, match="expired"):
        token_decode(token)


def test_a_tampered_or_wrong_kind_token_is_still_refused():
    token = _token(exp_in=60, jti="j2")
    token_decode(token)
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(InvalidToken):
        token_decode(forged)
    with pytest.raises(InvalidToken, match="refresh token is required"):
        token_decode(token, kind="refresh")


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(tokens, "_VERIFIED_MAX", 3)
    for i in range(6):
        token_decode(_token(exp_in=60, jti=f"bounded-{i}"))
    assert len(tokens._VERIFIED) <= 3
