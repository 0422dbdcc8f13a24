"""The auth service: the user directory folded from the ``auth`` topic, logins and token issue."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from couture_auth.adapters.ldap_directory import LdapAccount, LdapUnavailable, authenticate
from couture_auth.adapters.lockout_log import SharedLockout
from couture_auth.domain.ldap import LDAP_PASSWORD_HASH, LdapSettings, mapped_roles, settings_from_event
from couture_auth.domain.lockout import LockoutPolicy
from couture_auth.domain.permissions import Principal
from couture_auth.domain.users import DEFAULT_ADMIN_PASSWORD, User, UserDirectory, fold, seed_events
from couture_auth.passwords import hash_password, verify_password
from couture_auth.tokens import (
    DEFAULT_TTL,
    REFRESH,
    InvalidTokenError,
    TokenClaims,
    TokenIssuer,
    TokenVerifier,
    load_or_create_signing_key,
)
from couture_common.eventlog import Consumer, EventLog
from couture_common.events import Event, TokenRevoked, UserCreated, UserEdited, UserPasswordChanged, envelope
from couture_common.secrets import SecretBox
from couture_common.topics import AUTH

ACTOR = "service:auth"


class AuthenticationFailed(Exception):
    """Unknown user or wrong password (deliberately not saying which)."""


class LoginUnavailable(Exception):
    """The LDAP server could not be asked; the user's credentials were not judged."""


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
        ldap: LdapSettings | None = None,
        ldap_bind_password: str = "",
        secret_box: SecretBox | None = None,
    ) -> None:
        """``ldap`` and ``ldap_bind_password`` are the environment's LDAP settings; Admin → LDAP
        Configuration replaces them once saved, its bind password decrypted with ``secret_box``."""
        self._log = log
        # The manual's default password must be changed at first login; one set by the operator
        # (COUTURE_ADMIN_PASSWORD) was chosen already.
        self._admin_password = admin_password or DEFAULT_ADMIN_PASSWORD
        self._admin_must_change = admin_password is None
        # Folded from the log's ``login`` topic: shared by every auth process, kept over restarts.
        self._lockout = SharedLockout(log, lockout or LockoutPolicy(), actor=ACTOR)
        self._env_ldap = ldap or LdapSettings()
        self._env_bind_password = ldap_bind_password
        self._secret_box = secret_box
        self._issuer = TokenIssuer(load_or_create_signing_key(signing_key_path(home)), ttl=token_ttl)
        self._verifier = self._issuer.verifier()
        self._directory = UserDirectory()
        self._consumer: Consumer | None = None
        self._lock = asyncio.Lock()
        self._catch_ups_begun = 0

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
        await self._lockout.close()
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
        retry_at = await self._lockout.blocked_until(username, source_ip, now)
        if retry_at is not None:
            raise LoginThrottled(retry_at)
        ldap, bind_password = await self.ldap_settings()
        if ldap.enabled:
            return await self._ldap_login(ldap, bind_password, username, password, now, source_ip)
        user = await self.user(username)
        # Verify against a real hash even for unknown users, so timing does not reveal who exists.
        stored = user.password_hash if user else _DUMMY_HASH
        valid = await asyncio.to_thread(verify_password, stored, password)
        if not valid or user is None or not user.active:
            await self._lockout.failed(username, source_ip, now)
            raise AuthenticationFailed("invalid username or password")
        await self._lockout.succeeded(username, now)
        return self._issuer.issue(user.username, user.roles, now=now)

    async def ldap_settings(self) -> tuple[LdapSettings, str]:
        """The LDAP settings in force and the search account's password (Admin's, else the environment's)."""
        await self._catch_up()
        stored = self._directory.ldap_config
        if stored is None:
            return self._env_ldap, self._env_bind_password
        if stored.encrypted_bind_password is None:
            return settings_from_event(stored), ""
        if self._secret_box is None:
            raise LoginUnavailable("the LDAP bind password is stored encrypted but no Fernet key was given")
        return settings_from_event(stored), self._secret_box.decrypt(stored.encrypted_bind_password)

    async def ldap_configured_by_admin(self) -> bool:
        await self._catch_up()
        return self._directory.ldap_config is not None

    async def _ldap_login(
        self,
        ldap: LdapSettings,
        bind_password: str,
        username: str,
        password: str,
        now: datetime,
        source_ip: str | None,
    ) -> str:
        try:
            account = await asyncio.to_thread(authenticate, ldap, bind_password, username, password)
        except LdapUnavailable as error:
            raise LoginUnavailable(str(error)) from None
        user = await self.user(username)
        events = [] if account is None else _ldap_user_events(ldap, account, username, user)
        if account is None or (user is None and not events) or (user is not None and not user.active):
            await self._lockout.failed(username, source_ip, now)
            raise AuthenticationFailed("invalid username or password")
        if events:
            await self._log.append([envelope(e, actor=ACTOR) for e in events])
        await self._lockout.succeeded(username, now)
        current = await self.user(username)
        if current is None:
            raise AuthenticationFailed("invalid username or password")
        return self._issuer.issue(current.username, current.roles, now=now)

    def refresh_token_for(self, access: TokenClaims, *, now: datetime) -> str:
        """A refresh token for the login session ``access`` belongs to."""
        if access.token_id is None:
            raise AuthenticationFailed("the token carries no session")
        return self._issuer.issue_refresh(access.subject, now=now, session_id=access.token_id)

    async def refresh(self, refresh_token: str, *, now: datetime) -> str:
        """A new access token for a valid refresh token of a session not logged out, with the user's
        roles as they are now; :class:`AuthenticationFailed` otherwise."""
        try:
            claims = self._verifier.verify(refresh_token, now=now, use=REFRESH)
        except InvalidTokenError:
            raise AuthenticationFailed("invalid or expired refresh token") from None
        user = await self.user(claims.subject)
        if self.is_revoked(claims) or user is None or not user.active:
            raise AuthenticationFailed("invalid or expired refresh token")
        return self._issuer.issue(user.username, user.roles, now=now, session_id=claims.token_id)

    async def logout(self, claims: TokenClaims) -> None:
        """End the token's login session: its access and refresh tokens are refused from now on,
        in every process."""
        if claims.token_id is None:
            return
        event = TokenRevoked(token_id=claims.token_id, username=claims.subject, expires_at=claims.expires_at)
        await self._log.append([envelope(event, actor=f"user:{claims.subject}")])
        await self._catch_up()

    def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether the token's session was logged out, as of the directory's last catch-up (every
        ``user``, ``principal`` or ``directory`` call catches up)."""
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
        """Fold everything in the ``auth`` topic now.

        Concurrent callers share the work: a catch-up that began after a caller arrived has read
        everything appended before it, so once the caller holds the lock and sees one has begun
        since, it is done. Fifty concurrent requests then cost a poll or two, not fifty in a row.
        """
        arrived = self._catch_ups_begun
        async with self._lock:
            if self._catch_ups_begun > arrived:
                return
            self._catch_ups_begun += 1
            if self._consumer is None:
                self._consumer = self._log.consumer([AUTH])
            while records := await self._consumer.poll(timeout=0):
                self._directory = fold((r.envelope.payload for r in records), self._directory)


def _ldap_user_events(
    ldap: LdapSettings, account: LdapAccount, username: str, user: User | None
) -> list[Event]:
    """Register a first-time LDAP user (when allowed), or bring a known one's roles in line with
    their groups (when a mapping is configured and matches); nothing when neither applies."""
    mapped = mapped_roles(ldap, account.group_dns)
    if user is None:
        if not ldap.user_registration:
            return []
        created = UserCreated(
            username=username,
            password_hash=LDAP_PASSWORD_HASH,
            roles=mapped or (ldap.user_registration_role,),
            email=account.email,
            first_name=account.first_name,
            last_name=account.last_name,
        )
        return [created]
    if mapped and set(mapped) != set(user.roles):
        edited = UserEdited(
            username=username,
            roles=mapped,
            email=account.email,
            first_name=account.first_name,
            last_name=account.last_name,
        )
        return [edited]
    return []


_DUMMY_HASH = hash_password("not a real password")
