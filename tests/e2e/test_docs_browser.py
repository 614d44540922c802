"""``/docs`` in a real browser with no way out of the machine: Debian's chromium, driven by
Selenium through chromedriver, reaches nothing but 127.0.0.1, and still renders the
operations, authorizes through the OAuth2 password form and gets a 200 from ``GET /notes/``.

On a machine without chromium and chromedriver the test is skipped; ``.ci/run`` installs
them, and under CI their absence is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import ServerProcess

_BROWSER = shutil.which("chromium")
_DRIVER = shutil.which("chromedriver")
_USER = {"username": "alice", "password": "correct horse battery"}

if (_BROWSER is None or _DRIVER is None) and not os.environ.get("CI"):
    pytest.skip(
        "chromium and chromedriver are not installed (apt-get install chromium "
        "chromium-driver; .ci/run does)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 - only where a browser can run
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as shown  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    env = {
        "NOTES_DATABASE_URL": "memory://",
        "NOTES_SECRET_KEY": "browser-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "NOTES_LOG_LEVEL": "warning",
    }
    process = ServerProcess(env).start()
    assert httpx.post(f"{process.base_url}/users/", json=_USER).status_code == 201
    yield process
    process.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert _BROWSER is not None, "CI must install chromium"
    assert _DRIVER is not None, "CI must install chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = _BROWSER
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
        # Everything but the loopback goes to a proxy that is not there, and no name but
        # 127.0.0.1 resolves: a page that needs the internet stays blank.
        "--proxy-server=http://127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=_DRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def test_docs_work_offline_through_the_oauth2_form(
    server: ServerProcess, browser: webdriver.Chrome
) -> None:
    wait = WebDriverWait(browser, 60)
    browser.get(f"{server.base_url}/docs")
    wait.until(shown.presence_of_element_located((By.ID, "operations-notes-list_notes")))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 12

    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait.until(shown.visibility_of_element_located((By.ID, "oauth_username")))
    browser.find_element(By.ID, "oauth_username").send_keys(_USER["username"])
    browser.find_element(By.ID, "oauth_password").send_keys(_USER["password"])
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    wait.until(
        shown.presence_of_element_located(
            (By.CSS_SELECTOR, '.auth-btn-wrapper button[aria-label="Remove authorization"]')
        )
    )
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.btn-done").click()

    operation = browser.find_element(By.ID, "operations-notes-list_notes")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    operation.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    operation.find_element(By.CSS_SELECTOR, ".execute").click()
    status = wait.until(
        lambda _: operation.find_elements(
            By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"
        )
    )
    assert status[0].text.strip() == "200"
