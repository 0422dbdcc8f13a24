"""The auth service: the user directory folded from the ``auth`` topic, logins and token issue."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from couture_auth.domain.lockout import (
    LockoutPolicy,
    LoginThrottle,
    after_failure,
    after_success,
    blocked_until,
)
from couture_auth.domain.permissions import Principal
from couture_auth.domain.users import DEFAULT_ADMIN_PASSWORD, User, UserDirectory, fold, seed_events
from couture_auth.passwords import hash_password, verify_password
from couture_auth.tokens import (
    DEFAULT_TTL,
    TokenClaims,
    TokenIssuer,
    TokenVerifier,
    load_or_create_signing_key,
)
from couture_common.eventlog import Consumer, EventLog
from couture_common.events import TokenRevoked, UserPasswordChanged, envelope
from couture_common.topics import AUTH

ACTOR = "service:auth"


class AuthenticationFailed(Exception):
    """Unknown user or wrong password (deliberately not saying which)."""


class LoginThrottled(Exception):
    """Too many failed logins for this username or address: try again at ``retry_at``."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed logins; try again after {retry_at.isoformat()}")
        self.retry_at = retry_at


def signing_key_path(home: Path) -> Path:
    return home / "data" / "jwt_signing_key.pem"


class AuthService:
    def __init__(
        self,
        log: EventLog,
        *,
        home: Path,
        admin_password: str | None = None,
        token_ttl: timedelta = DEFAULT_TTL,
        lockout: LockoutPolicy | None = None,
    ) -> None:
        self._log = log
        # The manual's default password must be changed at first login; one set by the operator
        # (COUTURE_ADMIN_PASSWORD) was chosen already.
        self._admin_password = admin_password or DEFAULT_ADMIN_PASSWORD
        self._admin_must_change = admin_password is None
        self._lockout = lockout or LockoutPolicy()
        self._throttle = LoginThrottle()
        self._issuer = TokenIssuer(load_or_create_signing_key(signing_key_path(home)), ttl=token_ttl)
        self._verifier = self._issuer.verifier()
        self._directory = UserDirectory()
        self._consumer: Consumer | None = None
        self._lock = asyncio.Lock()

    @property
    def verifier(self) -> TokenVerifier:
        return self._verifier

    async def start(self) -> None:
        """Rebuild the directory from the log; on the very first start, create the superadmin."""
        await self._catch_up()
        seeds = seed_events(
            self._directory,
            password_hash=hash_password(self._admin_password),
            password_change_required=self._admin_must_change,
        )
        if seeds:
            await self._log.append([envelope(e, actor=ACTOR) for e in seeds])
            await self._catch_up()

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None

    async def user(self, username: str) -> User | None:
        await self._catch_up()
        return self._directory.get(username)

    async def directory(self) -> UserDirectory:
        """Users and custom roles as of everything in the log now."""
        await self._catch_up()
        return self._directory

    async def principal(self, username: str) -> Principal | None:
        """The active user with their current roles; None if unknown or deactivated."""
        await self._catch_up()
        return self._directory.principal(username)

    async def login(
        self, username: str, password: str, *, now: datetime, source_ip: str | None = None
    ) -> str:
        """An access token for valid credentials.

        :class:`LoginThrottled` while the username or address is locked out (even for the right
        password), :class:`AuthenticationFailed` for wrong credentials.
        """
        retry_at = blocked_until(self._throttle, username, source_ip, now)
        if retry_at is not None:
            raise LoginThrottled(retry_at)
        user = await self.user(username)
        # Verify against a real hash even for unknown users, so timing does not reveal who exists.
        stored = user.password_hash if user else _DUMMY_HASH
        valid = await asyncio.to_thread(verify_password, stored, password)
        if not valid or user is None or not user.active:
            self._throttle = after_failure(self._throttle, username, source_ip, now, self._lockout)
            raise AuthenticationFailed("invalid username or password")
        self._throttle = after_success(self._throttle, username)
        return self._issuer.issue(user.username, user.roles, now=now)

    async def logout(self, claims: TokenClaims) -> None:
        """Revoke the token: the gateway refuses it from now on, in every process."""
        if claims.token_id is None:
            return
        event = TokenRevoked(token_id=claims.token_id, username=claims.subject, expires_at=claims.expires_at)
        await self._log.append([envelope(event, actor=f"user:{claims.subject}")])
        await self._catch_up()

    async def is_revoked(self, claims: TokenClaims) -> bool:
        await self._catch_up()
        return claims.token_id is not None and claims.token_id in self._directory.revoked_tokens

    async def change_password(self, username: str, current: str, new: str) -> None:
        """Set a new password after checking the current one; :class:`AuthenticationFailed` if wrong.

        Tokens issued before stay valid until they expire.
        """
        user = await self.user(username)
        if user is None or not await asyncio.to_thread(verify_password, user.password_hash, current):
            raise AuthenticationFailed("the current password is wrong")
        event = UserPasswordChanged(
            username=username, password_hash=await asyncio.to_thread(hash_password, new)
        )
        await self._log.append([envelope(event, actor=f"user:{username}")])
        await self._catch_up()

    async def _catch_up(self) -> None:
        async with self._lock:
            if self._consumer is None:
                self._consumer = self._log.consumer([AUTH])
            while records := await self._consumer.poll(timeout=0):
                self._directory = fold((r.envelope.payload for r in records), self._directory)


_DUMMY_HASH = hash_password("not a real password")
