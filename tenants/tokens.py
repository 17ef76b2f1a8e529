"""JWT bearer tokens (PyJWT, HS256). The actor of every action comes from here."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from tenants.identity import Actor

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The credential is missing its form, expired, forged or revoked."""


def _key() -> str:
    return settings.SECRET_KEY


def token_issue_pair(*, user) -> dict:
    """An access token (short) and a refresh token (long) for `user`."""
    conf = settings.SWITCHBOARD
    now = datetime.now(UTC)
    access_ttl = conf["JWT_ACCESS_TTL_SECONDS"]
    refresh_ttl = conf["JWT_REFRESH_TTL_SECONDS"]

    def encode(kind: str, ttl: int) -> str:
        claims = {
            "iss": conf["JWT_ISSUER"],
            "sub": str(user.pk),
            "email": user.email,
            "dev": bool(user.is_developer),
            "typ": kind,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
        }
        return jwt.encode(claims, _key(), algorithm=ALGORITHM)

    return {
        "access_token": encode("access", access_ttl),
        "refresh_token": encode("refresh", refresh_ttl),
        "token_type": "Bearer",
        "expires_in": access_ttl,
    }


def token_decode(token: str, *, kind: str = "access") -> dict:
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            issuer=settings.SWITCHBOARD["JWT_ISSUER"],
            options={"require": ["exp", "iat", "sub", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The token is not valid.") from None
    if claims.get("typ") != kind:
        raise InvalidToken(f"An {kind} token is required.")
    return claims


def actor_from_authorization(header: str | None) -> Actor | None:
    """`Bearer <jwt>` -> Actor; None when there is no credential at all."""
    if header is None or header == "":
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Use `Authorization: Bearer <token>`.")
    claims = token_decode(token.strip())
    from tenants.models import User

    user = (
        User.objects.filter(pk=claims["sub"], is_active=True)
        .only("id", "email", "is_developer")
        .first()
    )
    if user is None:
        raise InvalidToken("The token's user is not active.")
    return Actor(
        id=user.pk, email=user.email, is_developer=user.is_developer, token_id=claims["jti"]
    )
