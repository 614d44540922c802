"""``/docs`` and ``/redoc`` need nothing but the service: every script, style and icon they
load is served by it, and they are labelled by their paths in the metrics."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.api.client import app_over, serving

_URL = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


async def test_the_docs_pages_load_only_what_the_service_serves() -> None:
    async with serving(app_over()) as client:
        for page in ("/docs", "/redoc"):
            html = await client.get(page)
            assert html.status_code == 200
            assert html.headers["content-type"].startswith("text/html")
            urls = _URL.findall(html.text)
            assert urls, html.text
            assert "/openapi.json" in html.text
            for url in urls:
                assert url.startswith("/"), f"{page} loads {url} from elsewhere"
                loaded = await client.get(url)
                assert loaded.status_code == 200, url
                assert len(loaded.content) > 1000 or url.endswith("oauth2-redirect"), url
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await client.get("/docs/assets/core.py")).status_code == 422
        assert (await client.get("/docs/oauth2-redirect")).status_code == 200


async def test_docs_and_document_are_labelled_by_their_paths() -> None:
    async with serving(app_over()) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"):
            assert (await client.get(path)).status_code == 200
        scrape = (await client.get("/metrics")).text
    routes = {
        sample.labels["route"]
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        if sample.name == "notes_http_requests_total"
    }
    assert {"/docs", "/redoc", "/openapi.json", "/docs/assets/{name}"} <= routes
    assert "<unmatched>" not in routes
