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
from typing import cast

from dependency_injector import containers, providers

from adapters.system import SystemClock, Uuid7Factory
from application import Notes
from entrypoints import persistence
from entrypoints.settings import Settings

__all__ = ["Container", "resolve_notes", "shutdown"]


class Container(containers.DeclarativeContainer):
    """Providers: ``settings``, ``clock``, ``ids``, ``database_url`` (a resource: the embedded
    server when none is configured), ``engine`` (a resource: the SQL pool, ``None`` on
    ``memory://``), ``uow_factory`` (the persistence port) and ``notes`` (the use cases)."""

    settings = providers.Singleton(Settings)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7Factory)
    database_url = providers.Resource(persistence.open_database_url, settings)
    engine = providers.Resource(persistence.open_engine, database_url, settings)
    uow_factory = providers.Singleton(persistence.unit_of_work_factory, engine)
    notes = providers.Singleton(Notes, uow_factory, clock, ids)


async def resolve_notes(container: Container) -> Notes:
    """The use cases, opening the resources they depend on.

    A provider returns an awaitable only when something it depends on is async, which depends
    on what is overridden; this accepts both.
    """
    notes: object = container.notes()
    if inspect.isawaitable(notes):
        notes = await notes
    return cast(Notes, notes)


async def shutdown(container: Container) -> None:
    """Close every resource the container opened and forget the objects built on them, so the
    container can be started again."""
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
    container.reset_singletons()
