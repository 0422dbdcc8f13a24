"""``couture auth``: the auth service as a process of its own (distributed deployment).

It folds the user directory from the ``auth`` topic (creating the superadmin on the very first
start) and serves the login routes of :mod:`couture_auth.api` (tokens for API clients, cookie
sessions for browsers, refresh with rotation, the JWKS), signing with the deployment's key in
``COUTURE_HOME/data``. Gateways and the registry verify tokens against its JWKS
(``COUTURE_AUTH_URL``); gateways embed the same service for their own logins. Login attempts are
audited here as the gateway audits its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from fastapi import FastAPI

from couture_auth.api import auth_router
from couture_auth.domain.ldap import ldap_settings_from_options
from couture_auth.service import AuthService
from couture_common.auth_settings import IPNetwork
from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_router, serve
from couture_common.settings import Settings
from couture_gateway.api.audit_trail import AuditTrail


def create_app(
    auth: AuthService,
    ready: Readiness,
    log: EventLog,
    *,
    always_secure_cookies: bool,
    trusted_proxies: Sequence[IPNetwork] = (),
) -> FastAPI:
    app = FastAPI(title="Couture auth")
    app.include_router(health_router("auth", ready))
    app.include_router(auth_router(auth, always_secure_cookies=always_secure_cookies))
    # Every login attempt is recorded (who, from where, outcome) as the gateway records its own.
    app.add_middleware(AuditTrail, log=log, service="auth", trusted_proxies=trusted_proxies)
    return app


async def run_auth(settings: Settings, log: EventLog, *, host: str, port: int) -> None:
    """Until SIGTERM: then requests in flight finish and the process ends."""
    auth = AuthService(
        log,
        home=settings.home,
        admin_password=settings.admin_password,
        ldap=ldap_settings_from_options(settings.ldap_options(), names_prefix="COUTURE_"),
        ldap_bind_password=settings.ldap_bind_password(),
        secret_box=settings.secret_box,
        token_ttl=timedelta(seconds=settings.access_token_ttl),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl),
    )
    ready = Readiness()

    async def start() -> None:
        await log.start()
        await auth.start()
        ready.set(True)

    async def stop() -> None:
        ready.set(False)
        await auth.close()
        await log.close()

    app = create_app(
        auth,
        ready,
        log,
        always_secure_cookies=settings.cookie_secure,
        trusted_proxies=settings.trusted_proxies,
    )
    await serve(app, host=host, port=port, start=start, stop=stop)
