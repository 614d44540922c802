"""``/metrics`` can be closed to everyone but the scraper: with ``NOTES_METRICS_TOKEN`` set
it needs that bearer token."""

from __future__ import annotations

from tests.api.client import app_over, assert_problem, serving

TOKEN = "scraper-token-4c1d9e"


async def test_metrics_need_the_token_when_one_is_set() -> None:
    async with serving(app_over(metrics_token=TOKEN)) as client:
        assert_problem(await client.get("/metrics"), 401)
        assert_problem(await client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        assert_problem(await client.get("/metrics", headers={"Authorization": TOKEN}), 401)
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200
        assert "notes_http_requests_total" in scraped.text


async def test_metrics_stay_open_without_a_token() -> None:
    async with serving(app_over()) as client:
        assert (await client.get("/metrics")).status_code == 200
