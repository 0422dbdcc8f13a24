"""The auth service: the user directory folded from the ``auth`` topic, logins and token issue."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from couture_auth.adapters.ldap_directory import LdapAccount, LdapUnavailable, authenticate
from couture_auth.adapters.lockout_log import SharedLockout
from couture_auth.directory import AuthDirectory
from couture_auth.domain.ldap import LDAP_PASSWORD_HASH, LdapSettings, mapped_roles, settings_from_event
from couture_auth.domain.lockout import LockoutPolicy
from couture_auth.domain.permissions import Principal
from couture_auth.domain.users import DEFAULT_ADMIN_PASSWORD, User, UserDirectory, seed_events
from couture_auth.passwords import hash_password, verify_password
from couture_auth.sessions import SessionRefused, current_principal
from couture_auth.tokens import (
    DEFAULT_REFRESH_TTL,
    DEFAULT_TTL,
    REFRESH,
    InvalidTokenError,
    KeySource,
    LocalKeys,
    TokenClaims,
    TokenIssuer,
    TokenVerifier,
    load_or_create_signing_key,
)
from couture_common.eventlog import EventLog
from couture_common.events import Event, TokenRevoked, UserCreated, UserEdited, UserPasswordChanged, envelope
from couture_common.ids import uuid7
from couture_common.secrets import SecretBox

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


#: How long after its use a refresh token sent again is taken for the same client retrying.
REFRESH_REUSE_GRACE = timedelta(seconds=10)


class RefreshTokenReused(AuthenticationFailed):
    """A refresh token came back after it was exchanged: a copy exists, so its session was ended."""


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a login or a refresh hands out: an access token and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    subject: str
    session_id: str


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
        refresh_ttl: timedelta = DEFAULT_REFRESH_TTL,
        refresh_reuse_grace: timedelta = REFRESH_REUSE_GRACE,
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
        key = load_or_create_signing_key(signing_key_path(home))
        self._issuer = TokenIssuer(key, ttl=token_ttl, refresh_ttl=refresh_ttl)
        self._keys = LocalKeys([key])
        self._verifier = TokenVerifier(self._keys)
        self._directory = AuthDirectory(log, longest_token_lifetime=max(token_ttl, refresh_ttl))
        self._reuse_grace = refresh_reuse_grace
        # Exchanging a refresh token is check-then-revoke: one at a time, so a token sent twice at
        # once is exchanged once and then seen as reused.
        self._refresh_lock = asyncio.Lock()

    @property
    def verifier(self) -> TokenVerifier:
        """Checks tokens against this process's own key (no fetching)."""
        return self._verifier

    @property
    def keys(self) -> KeySource:
        """This process's own signing key's public half."""
        return self._keys

    @property
    def access_ttl(self) -> timedelta:
        return self._issuer.ttl

    @property
    def refresh_ttl(self) -> timedelta:
        return self._issuer.refresh_ttl

    def jwks(self) -> dict[str, Any]:
        """The public key(s) tokens are signed with, as a JWKS document."""
        return self._issuer.jwks()

    async def start(self) -> None:
        """Rebuild the directory from the log; on the very first start, create the superadmin."""
        seeds = seed_events(
            await self._directory.current(),
            password_hash=hash_password(self._admin_password),
            password_change_required=self._admin_must_change,
        )
        if seeds:
            await self._log.append([envelope(e, actor=ACTOR) for e in seeds])
            await self._directory.current()

    async def close(self) -> None:
        await self._lockout.close()
        await self._directory.close()

    async def user(self, username: str) -> User | None:
        return (await self._directory.current()).get(username)

    async def directory(self) -> UserDirectory:
        """Users, custom roles and revoked sessions as of everything in the log now."""
        return await self._directory.current()

    async def principal(self, username: str) -> Principal | None:
        """The active user with their current roles; None if unknown or deactivated."""
        return (await self._directory.current()).principal(username)

    def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether the token's session was logged out, as of the directory's last catch-up (every
        ``user``, ``principal`` or ``directory`` call catches up)."""
        return self._directory.folded.is_revoked(claims.token_id)

    async def login(
        self, username: str, password: str, *, now: datetime, source_ip: str | None = None
    ) -> IssuedTokens:
        """An access token and a refresh token for valid credentials: a new login session.

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
        return self._issue(user, now)

    def _issue(self, user: User, now: datetime, session_id: str | None = None) -> IssuedTokens:
        session = session_id or str(uuid7())
        return IssuedTokens(
            access_token=self._issuer.issue(user.username, user.roles, now=now, session_id=session),
            refresh_token=self._issuer.issue_refresh(user.username, now=now, session_id=session),
            subject=user.username,
            session_id=session,
        )

    async def ldap_settings(self) -> tuple[LdapSettings, str]:
        """The LDAP settings in force and the search account's password (Admin's, else the environment's)."""
        stored = (await self._directory.current()).ldap_config
        if stored is None:
            return self._env_ldap, self._env_bind_password
        if stored.encrypted_bind_password is None:
            return settings_from_event(stored), ""
        if self._secret_box is None:
            raise LoginUnavailable("the LDAP bind password is stored encrypted but no Fernet key was given")
        return settings_from_event(stored), self._secret_box.decrypt(stored.encrypted_bind_password)

    async def ldap_configured_by_admin(self) -> bool:
        return (await self._directory.current()).ldap_config is not None

    async def _ldap_login(
        self,
        ldap: LdapSettings,
        bind_password: str,
        username: str,
        password: str,
        now: datetime,
        source_ip: str | None,
    ) -> IssuedTokens:
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
        return self._issue(current, now)

    async def refresh(self, refresh_token: str, *, now: datetime) -> IssuedTokens:
        """New tokens for a valid refresh token of a session still on, with the user's roles as
        they are now; the refresh token is used up (rotation).

        A used refresh token sent again later than ``refresh_reuse_grace`` after its use means a
        copy exists: the whole session is revoked (:class:`RefreshTokenReused`). Within the grace it
        is the same client again (an answer lost to a closed tab or a dropped connection, two tabs
        renewing at once), renewed once more. :class:`AuthenticationFailed` for any other refusal.
        """
        try:
            claims = await self._verifier.verify(refresh_token, now=now, use=REFRESH)
        except InvalidTokenError:
            raise AuthenticationFailed("invalid or expired refresh token") from None
        async with self._refresh_lock:
            directory = await self._directory.current()
            used = directory.is_revoked(claims.jti)
            used_at = self._directory.revoked_at(claims.jti)
            retried = used_at is not None and now - used_at <= self._reuse_grace
            if used and not retried and not directory.is_revoked(claims.token_id):
                await self._revoke(claims.token_id, claims.subject, now + self.refresh_ttl, now, ACTOR)
                raise RefreshTokenReused("refresh token reused: its session is revoked")
            try:
                current_principal(directory, claims)
            except SessionRefused:
                raise AuthenticationFailed("invalid or expired refresh token") from None
            user = directory.get(claims.subject)
            if user is None or claims.jti is None:
                raise AuthenticationFailed("invalid or expired refresh token")
            if not used:
                actor = f"user:{claims.subject}"
                await self._revoke(claims.jti, claims.subject, claims.expires_at, now, actor)
            return self._issue(user, now, session_id=claims.token_id)

    async def logout(self, claims: TokenClaims, *, now: datetime) -> None:
        """End the token's login session: its access and refresh tokens are refused from now on,
        in every process."""
        # The session's newest refresh token may have been issued just now: it lives until then.
        actor = f"user:{claims.subject}"
        await self._revoke(claims.token_id, claims.subject, now + self.refresh_ttl, now, actor)

    async def _revoke(
        self, token_id: str | None, username: str, expires_at: datetime, now: datetime, actor: str
    ) -> None:
        if token_id is None:
            return
        event = TokenRevoked(token_id=token_id, username=username, expires_at=expires_at)
        await self._log.append([envelope(event, actor=actor, time=now)])
        await self._directory.current()

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
        await self._directory.current()


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
