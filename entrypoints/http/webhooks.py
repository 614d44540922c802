"""The webhook routes: ``/users/me/webhooks…``. Only a login's access token manages them."""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter

from application import StorageUnavailable
from application.webhooks import TooManyWebhooks, WebhookNotFound, Webhooks
from domain import RuleViolation
from entrypoints.container import resolve
from entrypoints.http.dependencies import LoginCallerDep, container_of
from entrypoints.http.routing import Routes
from entrypoints.http.webhook_schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)

__all__ = ["install"]

_JSON = "application/json"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_ALWAYS: Final = (RequestValidationError, StorageUnavailable)
_WEBHOOKS: Final = TypeAdapter(list[WebhookPublic])
_DELIVERIES: Final = TypeAdapter(list[DeliveryPublic])

_routes = Routes("webhooks")
install = _routes.install

WebhookId = Annotated[UUID, Path(description="The webhook's id.")]


async def _webhooks(request: Request) -> Webhooks:
    return await resolve(container_of(request).webhooks)


WebhooksDep = Annotated[Webhooks, Depends(_webhooks)]


@_routes.route(
    "POST",
    "/users/me/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    summary="Register a webhook",
    errors=(*_ALWAYS, RuleViolation, TooManyWebhooks),
)
async def register_webhook(
    body: WebhookCreate, caller: LoginCallerDep, webhooks: WebhooksDep
) -> Response:
    """Have the events of your notes POSTed to `url`, signed with the returned `secret`
    (shown this once). A host that resolves to a loopback, private or link-local address
    is refused."""
    registered = await webhooks.register(caller.id, body.url, body.events)
    public = WebhookPublic.of(registered.webhook)
    created = WebhookCreated(**public.model_dump(), secret=registered.secret)
    return Response(created.model_dump_json(), status_code=201, media_type=_JSON, headers=_NO_STORE)


@_routes.route(
    "GET",
    "/users/me/webhooks",
    response_model=list[WebhookPublic],
    summary="List your webhooks",
    errors=_ALWAYS,
)
async def list_webhooks(caller: LoginCallerDep, webhooks: WebhooksDep) -> Response:
    """Your webhooks, oldest first, without their secrets."""
    found = [WebhookPublic.of(w) for w in await webhooks.list(caller.id)]
    return Response(_WEBHOOKS.dump_json(found), media_type=_JSON, headers=_NO_STORE)


@_routes.route(
    "DELETE",
    "/users/me/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    errors=(*_ALWAYS, WebhookNotFound),
)
async def delete_webhook(
    webhook_id: WebhookId, caller: LoginCallerDep, webhooks: WebhooksDep
) -> Response:
    """Stop deliveries to this webhook and forget it, with its deliveries."""
    await webhooks.delete(caller.id, webhook_id)
    return Response(status_code=204)


@_routes.route(
    "GET",
    "/users/me/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryPublic],
    summary="List a webhook's recent deliveries",
    errors=(*_ALWAYS, WebhookNotFound),
)
async def list_deliveries(
    webhook_id: WebhookId, caller: LoginCallerDep, webhooks: WebhooksDep
) -> Response:
    """The webhook's latest attempts (at most 100), newest first."""
    found = [DeliveryPublic.of(d) for d in await webhooks.deliveries(caller.id, webhook_id)]
    return Response(_DELIVERIES.dump_json(found), media_type=_JSON, headers=_NO_STORE)
