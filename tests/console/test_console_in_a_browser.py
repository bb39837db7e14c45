"""The console in a real browser (Debian's headless Chromium, driven by Selenium),
against ``make run``'s stack: an agent signs in, a customer's new message appears
without a reload, the reply goes out and its delivery tick shows; the pages pass axe's
accessibility rules (labels, names, contrast) and keyboard focus moves in order.
Screenshots of each view are written to ``test-artifacts/console/`` (not committed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import ConsoleStack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CAUCE_SCREENSHOTS_DIR", ROOT / "test-artifacts" / "console"))
AXE = ROOT / "services" / "console" / "node_modules" / "axe-core" / "axe.min.js"
#: axe-core's rule sets run on every page: WCAG 2.x A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    service = webdriver.ChromeService(
        executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
        shot(driver, "99-last")  # where the browser was when the module ended
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def accessibility_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe's violations on the page. The live stream swaps the list and the chat while
    axe runs (for a while after a customer writes: the bot answers, ticks arrive), and a
    node swapped out mid-run has no visible text to axe: a page with violations is
    checked again once htmx has swapped nothing for a moment (real ones stay)."""
    found = _axe(driver)
    if found:
        print("axe, first run:", found)  # shown when the test fails
        quiet(driver)
        found = _axe(driver)
    return found


def _axe(driver: WebDriver) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text())
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.html)}))));",
        AXE_TAGS,
    )
    return list(result)


def click(driver: WebDriver, locator: tuple[str, str]) -> bool:
    """Click the element now at ``locator`` (False when it was swapped meanwhile)."""
    try:
        driver.find_element(*locator).click()
    except StaleElementReferenceException:
        return False
    return True


def wait(driver: WebDriver, seconds: float = 20) -> WebDriverWait[WebDriver]:
    """Polls that survive htmx swapping what they look at (a stale element: poll again)."""
    return WebDriverWait(
        driver,
        seconds,
        poll_frequency=0.2,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def test_an_agent_answers_a_new_customer_in_the_browser(
    console_stack: ConsoleStack, browser: WebDriver
) -> None:
    browser.get(f"{console_stack.console}/login")
    assert accessibility_violations(browser) == []
    email = browser.find_element(By.ID, "email")
    assert browser.switch_to.active_element == email  # the form starts focused
    email.send_keys(console_stack.logins["admin"][0])
    email.send_keys(Keys.TAB)
    password = browser.switch_to.active_element
    assert password.get_attribute("id") == "password"  # focus moves in reading order
    password.send_keys(console_stack.logins["admin"][1])
    shot(browser, "01-login")
    password.send_keys(Keys.ENTER)
    wait(browser).until(ready.url_contains("/inbox"))
    wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".filters")))

    browser.execute_script("window.cauceNoReload = true;")
    console_stack.customer_writes("Buenas, necesito el recibo de mi placa XYZ987", "573001119999")
    new_chat = (By.XPATH, "//a[contains(@class,'chat-item')][contains(., 'Cliente 9999')]")
    wait(browser).until(ready.presence_of_element_located(new_chat))
    assert browser.execute_script("return window.cauceNoReload === true;")  # live, no reload
    shot(browser, "02-inbox")
    assert accessibility_violations(browser) == []

    # the list is swapped as the bot answers: click whichever copy is there now
    wait(browser).until(lambda driver: click(driver, new_chat))
    wait(browser).until(
        ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".conversation"), "XYZ987")
    )
    box = browser.find_element(By.CSS_SELECTOR, ".reply textarea")
    box.send_keys("Claro, se lo envío enseguida")
    browser.find_element(By.CSS_SELECTOR, ".reply button[type=submit]").click()
    ours = "//li[contains(@class,'outbound')][contains(., 'Claro, se lo envío enseguida')]"
    wait(browser).until(ready.presence_of_element_located((By.XPATH, ours)))
    # the provider's status webhooks come back through the gateway: the tick shows
    # (the chat is re-rendered as statuses arrive: each poll reads the tick afresh)
    tick = (By.XPATH, ours + "//span[contains(@class,'tick')]")
    wait(browser, 30).until(lambda driver: driver.find_element(*tick).text in ("✓", "✓✓"))
    shot(browser, "03-chat")
    assert accessibility_violations(browser) == []

    # the assist (no AI provider here: the offline default, and the panel says so)
    browser.find_element(By.XPATH, "//button[contains(., 'Análisis')]").click()
    wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".insights")))
    assert "sin modelo" in browser.find_element(By.ID, "assist-result").text
    assert "XYZ987" in browser.find_element(By.CSS_SELECTOR, ".insights").text
    browser.find_element(By.XPATH, "//button[contains(., 'Borrador')]").click()
    use = wait(browser).until(ready.element_to_be_clickable((By.CSS_SELECTOR, "[data-use-draft]")))
    use.click()
    box = browser.find_element(By.CSS_SELECTOR, ".reply textarea")
    assert box.get_attribute("value") == use.get_attribute("data-use-draft")
    shot(browser, "06-assist")
    assert accessibility_violations(browser) == []


def test_an_operator_runs_a_small_campaign_and_watches_it(
    console_stack: ConsoleStack, browser: WebDriver, tmp_path: Path
) -> None:
    browser.get(f"{console_stack.console}/campaigns")
    if "/login" in browser.current_url:  # a module of its own may start signed out
        browser.find_element(By.ID, "email").send_keys(console_stack.logins["admin"][0])
        password = browser.find_element(By.ID, "password")
        password.send_keys(console_stack.logins["admin"][1], Keys.ENTER)
        wait(browser).until(ready.url_contains("/inbox"))
        browser.get(f"{console_stack.console}/campaigns")
    template = (By.CSS_SELECTOR, "option[value='pago_confirmado|es']")
    if not browser.find_elements(*template):
        browser.find_element(By.XPATH, "//button[contains(., 'plantillas')]").click()
        wait(browser).until(ready.presence_of_element_located(template))
    browser.find_element(By.ID, "campaign-name").send_keys("Pagos de diciembre")
    browser.find_element(*template).click()
    browser.find_element(By.CSS_SELECTOR, ".new-campaign button[type=submit]").click()
    wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".upload")))

    csv = tmp_path / "destinatarios.csv"
    rows = [f"+5730012340{n:02d},Cliente {n},$1.000" for n in range(5)]
    csv.write_text(
        "Recipient-Phone-Number,variable_1,variable_2\n"
        + "\n".join(rows)
        + "\nno es un número,x,y\n"
    )
    browser.find_element(By.CSS_SELECTOR, ".upload input[type=file]").send_keys(str(csv))
    browser.find_element(By.CSS_SELECTOR, ".upload button[type=submit]").click()
    loaded = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".loaded")))
    assert "5" in loaded.text and "1" in loaded.text  # 5 accepted, 1 rejected
    assert browser.find_elements(By.CSS_SELECTOR, ".rejections tbody tr")
    assert accessibility_violations(browser) == []

    start = "//button[contains(., 'Iniciar')]"
    wait(browser).until(lambda driver: click(driver, (By.XPATH, start)))
    # the figures follow the notifier's live stream until every recipient is sent
    wait(browser, 60).until(
        ready.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-figure='sent']"), "5")
    )
    wait(browser, 60).until(
        ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".state strong"), "completed")
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#campaign-chart polyline")
    shot(browser, "04-campaign")
    assert accessibility_violations(browser) == []


def test_the_operations_page_is_accessible(console_stack: ConsoleStack, browser: WebDriver) -> None:
    signed_in_at(browser, console_stack, "/operations")
    wait(browser).until(ready.presence_of_element_located((By.ID, "channels-title")))
    shot(browser, "05-operations")
    assert accessibility_violations(browser) == []


def test_the_ai_assist_page_is_accessible(console_stack: ConsoleStack, browser: WebDriver) -> None:
    signed_in_at(browser, console_stack, "/assistant")
    wait(browser).until(ready.presence_of_element_located((By.ID, "ai-settings-title")))
    endpoints = browser.find_element(By.ID, "ai-endpoint").text
    assert "gemini" in endpoints and "local" in endpoints
    shot(browser, "10-ai-assist")
    assert accessibility_violations(browser) == []


def signed_in_at(driver: WebDriver, stack: ConsoleStack, path: str) -> None:
    """``path`` in the console, signing in first when the browser is signed out."""
    driver.get(f"{stack.console}{path}")
    if "/login" in driver.current_url:
        driver.find_element(By.ID, "email").send_keys(stack.logins["admin"][0])
        password = driver.find_element(By.ID, "password")
        password.send_keys(stack.logins["admin"][1], Keys.ENTER)
        wait(driver).until(ready.url_contains("/inbox"))
        driver.get(f"{stack.console}{path}")


def quiet(driver: WebDriver, seconds: float = 1.5) -> None:
    """Wait until htmx has swapped nothing for ``seconds`` (the bot's answers and their
    delivery ticks refresh the list while a test ticks its boxes)."""
    driver.execute_script(
        "if (!window.cauceSwaps) { window.cauceSwaps = {n: 0, at: Date.now()};"
        " document.addEventListener('htmx:afterSwap', function () {"
        " window.cauceSwaps.n += 1; window.cauceSwaps.at = Date.now(); }); }"
    )
    wait(driver, 30).until(
        lambda d: d.execute_script("return Date.now() - window.cauceSwaps.at;") > seconds * 1000
    )


def customer_sends(stack: ConsoleStack, sender: str, message: dict[str, Any]) -> None:
    sent = httpx.post(
        stack.url("sandbox", "/sandbox/customer/send"),
        json={"message": message, "from": sender, "name": f"Cliente {sender[-4:]}"},
        timeout=10,
    )
    assert sent.status_code == 200 and sent.json()["gateway_status"] == 200, sent.text


def company_sticker(stack: ConsoleStack, name: str) -> str:
    """A sticker of the demo company (the console has no page to add one: the API)."""
    email, password = stack.logins["admin"]
    login = httpx.post(
        stack.url("identity", "/api/auth/login"),
        json={"email": email, "password": password},
        timeout=10,
    )
    token = login.json()["access_token"]
    added = httpx.post(
        stack.url("conversation", "/api/companies/stickers"),
        files={"file": (f"{name}.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24), "image/webp")},
        data={"name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert added.status_code == 201, added.text
    return str(added.json()["id"])


def layout(driver: WebDriver) -> dict[str, float]:
    result: dict[str, float] = driver.execute_script(
        "const box = s => document.querySelector(s).getBoundingClientRect();"
        "const m = document.querySelector('.conversation .messages');"
        "return {listBottom: box('.list').bottom, chatTop: box('.chat').top,"
        " listRight: box('.list').right, chatLeft: box('.chat').left,"
        " messagesTop: box('.messages').top, messagesBottom: box('.messages').bottom,"
        " composerTop: box('.composer').top, composerBottom: box('.composer').bottom,"
        " scrolls: getComputedStyle(m).overflowY === 'auto' ? 1 : 0,"
        " viewport: window.innerHeight,"
        " pane: document.querySelector('.chat').scrollHeight"
        " - document.querySelector('.chat').clientHeight,"
        " page: document.scrollingElement.scrollHeight};"
    )
    return result


def test_an_agent_tidies_the_inbox_in_a_small_window(
    console_stack: ConsoleStack, browser: WebDriver
) -> None:
    """Ticking two chats with the keyboard and labelling them at once; taking a label
    off with its own button; a voice note, a video and a document in the history; a
    sticker from the picker; the history keeping its room in a short window and the list
    above the chat in a narrow one; every view passing axe."""
    sticker = company_sticker(console_stack, "pulgar")
    console_stack.customer_writes("Quiero dos recibos", "573001118801")
    console_stack.customer_writes("Y yo otro", "573001118802")
    for n, (kind, mime) in enumerate(
        [("audio", "audio/ogg"), ("video", "video/mp4"), ("document", "application/pdf")]
    ):
        body: dict[str, Any] = {"id": f"30000000000000{n}1", "mime_type": mime}
        if kind == "document":
            body["filename"] = "recibo.pdf"
        customer_sends(console_stack, "573001118801", {"type": kind, kind: body})
    try:
        browser.set_window_size(1280, 720)
        signed_in_at(browser, console_stack, "/inbox")
        ticks = [
            (By.XPATH, f"//li[a[contains(., 'Cliente {n}')]]/input[@type='checkbox']")
            for n in ("8801", "8802")
        ]
        for tick in ticks:
            wait(browser).until(ready.presence_of_element_located(tick))
        quiet(browser)
        for tick in ticks:  # by keyboard: focus the box, space ticks it
            box = browser.find_element(*tick)
            browser.execute_script("arguments[0].focus();", box)
            browser.switch_to.active_element.send_keys(Keys.SPACE)
        assert all(browser.find_element(*tick).is_selected() for tick in ticks)
        label = browser.find_element(By.ID, "bulk-label")
        label.send_keys("Recibos", Keys.ENTER)  # Enter: the label's own button
        wait(browser).until(
            ready.text_to_be_present_in_element((By.ID, "bulk-result"), "2 cambiadas, 0 sin")
        )
        listed = "//a[contains(., 'Cliente {}')]//span[@class='label'][.='recibos']"
        for n in ("8801", "8802"):
            wait(browser).until(ready.presence_of_element_located((By.XPATH, listed.format(n))))
        # the relabelled list comes back with no box ticked (polled: htmx may still be
        # swapping the list in, which leaves a box read meanwhile stale)
        wait(browser).until(
            lambda d: (
                not any(box.is_selected() for box in d.find_elements(By.CSS_SELECTOR, ".pick"))
            )
        )
        shot(browser, "07-bulk")
        assert accessibility_violations(browser) == []

        chat = (By.XPATH, "//a[contains(@class,'chat-item')][contains(., 'Cliente 8801')]")
        wait(browser).until(lambda driver: click(driver, chat))
        wait(browser).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, ".conversation .messages audio"))
        )
        wait(browser).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, ".conversation .messages video"))
        )
        document = browser.find_element(By.CSS_SELECTOR, ".messages a.document")
        assert "recibo.pdf" in document.text
        remove = (By.CSS_SELECTOR, "button[aria-label='Quitar etiqueta recibos']")
        wait(browser).until(ready.presence_of_element_located(remove))
        browser.execute_script("arguments[0].focus();", browser.find_element(*remove))
        browser.switch_to.active_element.send_keys(Keys.ENTER)
        wait(browser).until(ready.invisibility_of_element_located(remove))

        browser.find_element(By.CSS_SELECTOR, ".stickers summary").click()
        pick = (By.CSS_SELECTOR, f".sticker-picker button[value='{sticker}']")
        wait(browser).until(ready.element_to_be_clickable(pick)).click()
        ours = (By.CSS_SELECTOR, "li.outbound img.sticker")
        wait(browser).until(ready.presence_of_element_located(ours))
        quiet(browser)
        shot(browser, "08-media-and-sticker")
        assert accessibility_violations(browser) == []

        # a short window: the history scrolls inside the pane, the composer stays in view
        browser.find_element(By.CSS_SELECTOR, ".stickers summary").click()  # closed again
        short = layout(browser)
        assert short["listRight"] <= short["chatLeft"]  # side by side
        assert short["scrolls"] and short["messagesBottom"] - short["messagesTop"] >= 100
        assert short["messagesBottom"] <= short["composerTop"]
        assert short["composerBottom"] <= short["viewport"]
        assert short["page"] <= short["viewport"] + 1  # the page itself does not scroll
        assert short["pane"] <= 1  # nor the chat's pane: everything fits, the history scrolls

        browser.set_window_size(800, 900)  # narrow: the list above the chat
        wait(browser).until(
            lambda driver: layout(driver)["listBottom"] <= layout(driver)["chatTop"]
        )
        narrow = layout(browser)
        assert narrow["scrolls"] and narrow["messagesBottom"] - narrow["messagesTop"] >= 150
        shot(browser, "09-narrow")
        assert accessibility_violations(browser) == []
    finally:
        browser.set_window_size(1280, 900)
