"""JWT bearer tokens (PyJWT, HS256). The actor of every action comes from here.

A token is dead when it expired, when its id is in RevokedToken (a used refresh token:
refresh tokens rotate and are single-use) or when it was issued before the user's
`tokens_valid_after` (logout, password change or reset). All of it is checked in the one
indexed query that loads the actor.
"""

import collections
import time
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
            # `iat` has whole seconds; logout must also kill a token issued this second.
            "ts": now.timestamp(),
            "exp": now + timedelta(seconds=ttl),
        }
        return jwt.encode(claims, _key(), algorithm=ALGORITHM)

    return {
        "access_token": encode("access", access_ttl),
        "refresh_token": encode("refresh", refresh_ttl),
        "token_type": "Bearer",
        "expires_in": access_ttl,
    }


# Tokens whose signature and claims were verified in this process, so that a client's
# next request with the same token costs a dictionary lookup, not an HMAC and PyJWT's
# checks (docs/performance.md). Keyed by the whole token (its signature included) and the
# key and issuer it was verified with; expiry is checked again at every use. Revocation
# and the user's state are not claims: the access statement checks them every time.
_VERIFIED: "collections.OrderedDict[tuple[str, str, str, str], dict]" = collections.OrderedDict()
_VERIFIED_MAX = 4096


def token_decode(token: str, *, kind: str = "access") -> dict:
    cache_key = (token, kind, _key(), settings.SWITCHBOARD["JWT_ISSUER"])
    cached = _VERIFIED.get(cache_key)
    if cached is not None:
        if cached["exp"] <= time.time():  # PyJWT's test, with no leeway
            _VERIFIED.pop(cache_key, None)
            raise InvalidToken("The token has expired.")
        return dict(cached)
    claims = _token_decode(token, kind=kind)
    _VERIFIED[cache_key] = dict(claims)
    while len(_VERIFIED) > _VERIFIED_MAX:
        try:
            _VERIFIED.popitem(last=False)
        except KeyError:  # another thread emptied it meanwhile
            break
    return claims


def _token_decode(token: str, *, kind: str) -> dict:
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
        article = "An" if kind[:1] in "aeiou" else "A"
        raise InvalidToken(f"{article} {kind} token is required.")
    return claims


def claims_from_authorization(header: str | None) -> dict | None:
    """`Bearer <jwt>` -> the access token's verified claims (no database); None when there is
    no credential at all. Whether its user is still live is `check_live`'s question."""
    if header is None or header == "":
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Use `Authorization: Bearer <token>`.")
    return token_decode(token.strip())


def verifies(header: str | None) -> bool:
    """Whether `header` is `Bearer <an access token that verifies>` (signature, expiry; no
    database, verified tokens are cached): a header alone makes nobody known, or any junk
    in it would escape what anonymous senders are held to."""
    try:
        return claims_from_authorization(header) is not None
    except InvalidToken:
        return False


def check_live(claims: dict, user: dict | None) -> None:
    """Refuse a token whose user is gone or inactive (`user` None), or that was revoked.
    `user` holds `tokens_valid_after` and `revoked` (this token's jti is revoked)."""
    if user is None:
        raise InvalidToken("The token's user is not active.")
    issued = claims.get("ts", claims["iat"])
    valid_after = user["tokens_valid_after"]
    if user["revoked"] or (valid_after and issued < valid_after.timestamp()):
        raise InvalidToken("The token has been revoked.")


def actor_from_authorization(header: str | None) -> Actor | None:
    """`Bearer <jwt>` -> Actor; None when there is no credential at all."""
    claims = claims_from_authorization(header)
    if claims is None:
        return None
    user = _live_user(claims)
    return Actor(
        id=user.pk, email=user.email, is_developer=user.is_developer, token_id=claims["jti"]
    )


def _live_user(claims: dict, *, reuse_is_theft: bool = False):
    """The token's user if the token is still live: one query (user by pk + revoked jti)."""
    from django.db.models import Exists

    from tenants.models import RevokedToken, User

    user = (
        User.objects.filter(pk=claims["sub"], is_active=True)
        .annotate(revoked=Exists(RevokedToken.objects.filter(jti=claims["jti"])))
        .only("id", "email", "is_developer", "tokens_valid_after")
        .first()
    )
    if user is not None and user.revoked and reuse_is_theft:
        from tenants.accounts import tokens_revoke_all

        tokens_revoke_all(user_id=user.pk)
        raise InvalidToken("This refresh token was used already; sign in again.")
    check_live(
        claims,
        None
        if user is None
        else {"tokens_valid_after": user.tokens_valid_after, "revoked": user.revoked},
    )
    return user


def token_refresh(refresh_token: str) -> dict:
    """New tokens for a live refresh token, which is used up (rotation).

    A refresh token presented twice was copied: every token of the user is revoked.
    """
    from django.db import IntegrityError, transaction

    from tenants.accounts import tokens_revoke_all
    from tenants.models import RevokedToken

    claims = token_decode(refresh_token, kind="refresh")
    user = _live_user(claims, reuse_is_theft=True)
    try:
        with transaction.atomic():
            RevokedToken.objects.create(
                jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC)
            )
    except IntegrityError:
        tokens_revoke_all(user_id=user.pk)
        raise InvalidToken("This refresh token was used already; sign in again.") from None
    return token_issue_pair(user=user)
