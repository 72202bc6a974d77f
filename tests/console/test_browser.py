"""The console in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium) against a real uvicorn server on 127.0.0.1: a commune officer logs in, sees only their
commune, opens a failing PC and is refused another commune's pages; the district admin sees every
unit, and a hostile hostname shows as text. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.conftest import HOSTILE, PASSWORD, District

pytestmark = pytest.mark.browser
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"

if not (CHROMIUM and DRIVER):
    pytest.skip("chromium and chromedriver not found: run scripts/system-deps.sh (Debian's chromium, "
                "chromium-driver)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extra: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def server(district: District) -> Iterator[str]:
    import uvicorn

    from secscan.collector.api import create_app
    from secscan.wiring.collector import with_console

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = with_console(create_app(district.store()), district.store())
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,900", "--lang=vi"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def log_in(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/console/")
    assert driver.current_url.endswith("/console/login")
    driver.find_element(By.NAME, "user").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    # a form POST and its redirect: wait for the overview rather than read the URL at once (the
    # scrypt check and the first figures take a moment on a loaded machine)
    WebDriverWait(driver, 30).until(expected_conditions.url_to_be(f"{base}/console/"))


def test_a_commune_officer_sees_their_commune_and_is_refused_another(server: str, browser, district: District
                                                                     ) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/console/login")
    shot(browser, "1-login")
    log_in(browser, server, "canbo-vanlang")
    units = [row.get_attribute("data-unit") for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-unit]")]
    assert units == ["van-lang"]
    assert "Vĩnh Chân" not in browser.page_source
    shot(browser, "2-overview-commune-officer")

    browser.find_element(By.LINK_TEXT, "UBND xã Văn Lang").click()
    assert browser.current_url.endswith("/console/unit/van-lang")
    shot(browser, "3-unit")
    failing = [row for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-host]")
               if row.find_elements(By.CSS_SELECTOR, "td.o-fail")]
    assert failing, "the synthetic commune has PCs that fail a control"
    failing[0].find_element(By.TAG_NAME, "a").click()
    assert "/console/pc/" in browser.current_url
    results = browser.find_elements(By.CSS_SELECTOR, "table.results tr.o-fail")
    assert results and "Không đạt" in results[0].text
    shot(browser, "4-pc-failing")

    other = district.hosts("vinh-chan")[0]
    for path in ("/console/unit/vinh-chan", f"/console/pc/{other['id']}"):
        browser.get(server + path)
        assert "ngoài phạm vi" in browser.find_element(By.CSS_SELECTOR, "p.error").text
        assert "Vĩnh Chân" not in browser.page_source and other["hostname"] not in browser.page_source
    shot(browser, "5-other-commune-refused")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "404" not in e["message"]]
    assert severe == []  # no CSP violation, nothing blocked


def test_the_district_admin_sees_every_unit_and_a_hostile_name_as_text(server: str, browser) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    log_in(browser, server, "admin-huyen")
    units = {row.get_attribute("data-unit") for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-unit]")}
    assert {"van-lang", "vinh-chan"} <= units
    shot(browser, "6-overview-admin")
    browser.get(f"{server}/console/unit/vinh-chan?lang=en")
    assert HOSTILE in [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tr[data-host] a")]
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - the script in the hostname never ran
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []  # nor did its image tag become one
    shot(browser, "7-unit-hostile-name-en")
