"""The composition root: which adapter serves which port, decided once from the settings.

Nothing is built when this module is imported or when a ``Container`` is made; providers
build on first use. Resolving ``notes`` opens exactly the resources it needs: the embedded
PostgreSQL when no database URL is configured, the engine for a SQL URL, nothing for
``memory://``. ``await container.shutdown_resources()`` closes what was opened, in reverse
order (the engine before the server it connects to).

Tests replace an adapter by overriding its provider, for example::

    container = Container(settings=providers.Object(Settings(database_url="memory://")))
    container.uow_factory.override(providers.Object(some_unit_of_work_factory))

With ``uow_factory`` overridden, resolving ``notes`` opens no database at all.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar, cast

from dependency_injector import containers, providers

from adapters.security import Argon2PasswordHasher, JwtAccessTokens, ZxcvbnCommonPasswords
from adapters.system import SystemClock, Uuid7Factory
from adapters.webhooks import HttpWebhookSender, StandardWebhookSigning
from application import Accounts, Clock, LoginPolicy, Notes, UnitOfWorkFactory
from application.feed import Feed
from application.personal_tokens import PersonalTokens
from application.retention import Sweep
from application.revisions import PurgeTrash, Revisions, Trash
from application.sharing import Sharing, Usernames
from application.throttle import AddressLimiter
from application.webhook_delivery import DeliverWebhooks, MessageEncoder
from application.webhooks import Webhooks
from domain.revisions import RevisionPolicy
from entrypoints import persistence
from entrypoints.settings import Settings
from entrypoints.signing_key import signing_key

if TYPE_CHECKING:
    from entrypoints.http.cursors import CursorCodec
    from entrypoints.http.metrics import Metrics

__all__ = ["Container", "resolve", "resolve_notes", "shutdown"]

T = TypeVar("T")


def _password_hasher(settings: Settings) -> Iterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher(max_pending=settings.hash_queue)
    yield hasher
    hasher.close()


def _access_tokens(key: str, settings: Settings) -> JwtAccessTokens:
    return JwtAccessTokens(key, ttl=timedelta(seconds=settings.access_token_ttl))


def _login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        refresh_token_ttl=timedelta(seconds=settings.refresh_token_ttl),
        max_failures=settings.login_max_failures,
        failure_window=timedelta(seconds=settings.login_failure_window),
        max_failures_per_username=settings.login_max_failures_per_username,
        max_attempts_per_address=settings.address_max_attempts,
    )


def _public_limiter(settings: Settings) -> AddressLimiter:
    return AddressLimiter(settings.public_link_max_requests, timedelta(minutes=1))


def _revision_policy(settings: Settings) -> RevisionPolicy:
    return RevisionPolicy(settings.revisions_kept)


def _purge_trash(uow: UnitOfWorkFactory, clock: Clock, settings: Settings) -> PurgeTrash:
    return PurgeTrash(uow, clock, retention=timedelta(days=settings.trash_retention_days))


async def _webhook_sender(settings: Settings) -> AsyncIterator[HttpWebhookSender]:
    sender = HttpWebhookSender(allow_private=settings.webhooks_allow_private)
    yield sender
    await sender.close()


def _record_within(settings: Settings) -> timedelta:
    """How long a delivery worker may go on sending before it records its attempts: at
    most a second, and short enough that a lease outlasts it and a whole attempt (10 s)."""
    spare = timedelta(seconds=settings.webhooks_lease) - timedelta(seconds=10)
    return min(timedelta(seconds=1), spare / 2)


def _message_encoder() -> MessageEncoder:
    from entrypoints.http.webhook_schemas import JsonMessageEncoder

    return JsonMessageEncoder()


def _cursor_codec(key: str) -> CursorCodec:
    from entrypoints.http.cursors import CursorCodec  # the HTTP package imports this module

    return CursorCodec(key)


def _metrics() -> Metrics:
    from entrypoints.http.metrics import Metrics

    return Metrics()


class Container(containers.DeclarativeContainer):
    """Providers: ``settings``, ``clock``, ``ids``, ``database_url`` (a resource: the embedded
    server when none is configured), ``engine`` (a resource: the SQL pool, ``None`` on
    ``memory://``), ``uow_factory`` (the persistence port), ``notes``, ``revisions``,
    ``trash`` and ``purge_trash`` (their use cases, with ``revision_policy``), ``feed`` (the
    change feed), ``personal_tokens`` (personal access tokens), ``sharing`` (with
    ``public_limiter``) and ``usernames`` (owners' names, remembered), and for
    accounts ``signing_key``, ``password_hasher`` (a resource: its thread pool),
    ``access_tokens``, ``login_policy``, ``common_passwords`` and ``accounts`` (their use
    cases), and ``sweep`` (the retention sweep); for the HTTP edge ``readiness`` (the
    database check), ``pool_usage``, ``cursors`` (the cursor codec) and ``metrics``; for
    webhooks ``webhook_signing``, ``webhook_sender`` (a resource: its HTTP client),
    ``webhooks`` (their use cases) and ``deliver_webhooks`` (a delivery worker's turn)."""

    settings = providers.Singleton(Settings)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7Factory)
    database_url = providers.Resource(persistence.open_database_url, settings)
    engine = providers.Resource(persistence.open_engine, database_url, settings)
    uow_factory = providers.Singleton(
        persistence.unit_of_work_factory,
        engine,
        providers.Callable(persistence.quota_of, settings),
    )
    revision_policy = providers.Singleton(_revision_policy, settings)
    notes = providers.Singleton(
        Notes,
        uow_factory,
        clock,
        ids,
        require_version=settings.provided.require_if_match,
        revisions=revision_policy,
    )
    revisions = providers.Singleton(
        Revisions,
        uow_factory,
        clock,
        policy=revision_policy,
        require_version=settings.provided.require_if_match,
    )
    trash = providers.Singleton(Trash, uow_factory, clock, policy=revision_policy)
    personal_tokens = providers.Singleton(PersonalTokens, uow_factory, clock, ids)
    feed = providers.Singleton(
        Feed,
        uow_factory,
        clock,
        retention=providers.Factory(timedelta, days=settings.provided.feed_retention_days),
    )
    usernames = providers.Singleton(Usernames, uow_factory)
    public_limiter = providers.Singleton(_public_limiter, settings)
    sharing = providers.Singleton(Sharing, uow_factory, clock, ids, public_limiter=public_limiter)
    purge_trash = providers.Singleton(_purge_trash, uow_factory, clock, settings)
    signing_key = providers.Singleton(signing_key, settings)
    password_hasher = providers.Resource(_password_hasher, settings)
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    access_tokens = providers.Singleton(_access_tokens, signing_key, settings)
    login_policy = providers.Singleton(_login_policy, settings)
    accounts = providers.Singleton(
        Accounts,
        uow_factory,
        clock,
        ids,
        password_hasher,
        access_tokens,
        login_policy,
        common_passwords,
    )
    sweep = providers.Singleton(
        Sweep,
        uow_factory,
        clock,
        failure_window=providers.Factory(timedelta, seconds=settings.provided.login_failure_window),
        purge_trash=purge_trash,
        feed_retention=providers.Factory(timedelta, days=settings.provided.feed_retention_days),
    )
    readiness = providers.Singleton(persistence.readiness_check, engine)
    pool_usage = providers.Singleton(persistence.pool_usage, engine)
    cursors = providers.Singleton(_cursor_codec, signing_key)
    metrics = providers.Singleton(_metrics)
    webhook_signing = providers.Singleton(StandardWebhookSigning, signing_key)
    webhook_sender = providers.Resource(_webhook_sender, settings)
    webhooks = providers.Singleton(
        Webhooks, uow_factory, clock, ids, webhook_signing, webhook_sender
    )
    deliver_webhooks = providers.Singleton(
        DeliverWebhooks,
        uow_factory,
        clock,
        ids,
        webhook_sender,
        webhook_signing,
        providers.Singleton(_message_encoder),
        lease=providers.Factory(timedelta, seconds=settings.provided.webhooks_lease),
        record_within=providers.Callable(_record_within, settings),
        # A webhook that keeps getting events keeps its slot (lingering between them), so
        # there are slots for many: a slot costs a task, and a connection only while it
        # reads or records.
        claims=64,
        linger=5,
        poll=providers.Factory(timedelta, seconds=settings.provided.webhooks_poll_interval),
        first_retry=providers.Factory(timedelta, seconds=settings.provided.webhooks_first_retry),
    )


async def resolve(provider: Callable[[], T | Awaitable[T]]) -> T:
    """What ``provider`` provides, opening the resources it depends on.

    A provider returns an awaitable only when something it depends on is async, which depends
    on what is overridden; this accepts both.
    """
    provided = provider()
    if inspect.isawaitable(provided):
        return cast(T, await provided)
    return provided


async def resolve_notes(container: Container) -> Notes:
    """The notes use cases, opening the resources they depend on."""
    return cast(Notes, await resolve(container.notes))


async def shutdown(container: Container) -> None:
    """Close every resource the container opened and forget the objects built on them, so the
    container can be started again."""
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
    container.reset_singletons()
