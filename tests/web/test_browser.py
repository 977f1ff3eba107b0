"""One member's and one moderator's evening, in a real Chromium against the real server.

Mail goes through real SMTP both ways: posts into `listserv serve`, sign-in
links and moderator requests out to the recording relay. Screenshots land in
the test's tmp_path (`*.png`), for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.models import NonMemberPolicy
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.support.mail import post, send
from tests.support.relay import RecordingRelay
from tests.support.server import prepare, running, write_config
from tests.web.helpers import archived_posts, path_of, wait_for_archived, wait_for_link

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STRANGER = "mallory@outside.example"


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return Path(found)
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: install Debian's chromium package")
    pytest.skip("no Chromium here (apt-get install chromium); the browser test needs one")


@pytest.fixture
def browser_settings(tmp_path: Path, relay: RecordingRelay) -> Settings:
    # Sign-in links point at base_url; the test opens their path on the real port.
    return load_settings(
        write_config(
            tmp_path, relay_port=relay.port, extra={"web": {"base_url": "http://127.0.0.1"}}
        )
    )


@pytest.fixture
async def chromium() -> AsyncIterator[object]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def test_sign_in_read_search_and_moderate_in_a_browser(
    browser_settings: Settings, relay: RecordingRelay, chromium: object, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    await prepare(browser_settings, lists={LIST: MEMBERS}, nonmember=NonMemberPolicy.HOLD)
    db = Database(browser_settings.database_url)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        async with running(browser_settings) as server:
            # Two members post through SMTP; the pipeline archives them.
            first = post(
                f"Alice Müller <{ALICE.email}>",
                LIST,
                subject="Phishing wave against operators",
                body=(
                    "We see a phishing wave using evil-phish.example since 09:00 UTC.\n"
                    "Indicators: hxxp://evil-phish.example/login, 198.51.100.23\n\n"
                    "Best regards,\nAlice Müller\nOperator A GmbH\n"
                ),
                message_id="<first@operator-a.example>",
            )
            await send(server.smtp_port, first, mail_from=ALICE.email, recipients=[LIST])
            reply = post(
                f"Carol Jones <{CAROL.email}>",
                LIST,
                subject="Re: Phishing wave against operators",
                body=(
                    "Seen here as well; the kit reuses the same TLS certificate.\n\n"
                    "> We see a phishing wave using evil-phish.example since 09:00 UTC.\n"
                ),
                message_id="<reply@cert-c.example>",
                in_reply_to="<first@operator-a.example>",
            )
            await send(server.smtp_port, reply, mail_from=CAROL.email, recipients=[LIST])
            archived = await wait_for_archived(db, 2)
            # A stranger's post is held for the moderators.
            stranger = post(
                f"Mallory <{STRANGER}>",
                LIST,
                subject="Sharing a phishing kit sample",
                body="Found this phishing kit on a paste site; sharing in case it helps.\n",
                message_id="<held@outside.example>",
            )
            await send(server.smtp_port, stranger, mail_from=STRANGER, recipients=[LIST])
            await relay.wait_for(
                lambda: any(
                    "held for moderation" in str(d.message["Subject"]) for d in relay.to(BOB.email)
                ),
                timeout=30,
            )

            base = f"http://127.0.0.1:{server.web_port}"
            context = await chromium.new_context(viewport={"width": 1200, "height": 900})
            page = await context.new_page()
            problems: list[str] = []
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )

            # Sign in as Bob, the moderator, with only a keyboard.
            await page.goto(f"{base}/")
            await expect(page).to_have_url(f"{base}/signin")
            await page.keyboard.press("Tab")
            focused = await page.evaluate("document.activeElement.textContent")
            assert focused == "Skip to content"
            await page.get_by_label("Your e-mail address").fill(BOB.email)
            await page.screenshot(path=shots / "01-sign-in.png", full_page=True)
            await page.get_by_label("Your e-mail address").press("Enter")
            await expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
            await page.screenshot(path=shots / "02-check-your-mail.png", full_page=True)
            link = await wait_for_link(relay, BOB.email)
            await page.goto(base + path_of(link))
            await page.screenshot(path=shots / "03-confirm.png", full_page=True)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Your lists")).to_be_visible()
            await page.screenshot(path=shots / "04-your-lists.png", full_page=True)

            # The list, a thread, nested and de-attributed.
            await page.get_by_role("link", name="CISO", exact=True).click()
            await expect(page.get_by_role("heading", name="CISO", exact=True)).to_be_visible()
            await page.screenshot(path=shots / "05-threads.png", full_page=True)
            await page.get_by_role("link", name="Phishing wave against operators").click()
            await expect(page.get_by_role("heading", name="Participant A")).to_be_visible()
            await expect(page.get_by_role("heading", name="Participant B")).to_be_visible()
            text = await page.locator("main").inner_text()
            for identity in ("Alice", "Müller", "Operator A", "Carol", "cert-c"):
                assert identity not in text
            assert "evil-phish.example" in text
            assert await page.locator(".post-text a").count() == 0  # URLs are not links
            await page.screenshot(path=shots / "06-thread.png", full_page=True)

            # Search from the list page.
            await page.get_by_role("link", name="CISO").first.click()
            await page.get_by_label("Search this list").fill("phishing")
            await page.get_by_label("Search this list").press("Enter")
            await expect(page.get_by_role("heading", name="2 posts found")).to_be_visible()
            assert await page.locator("mark").count() >= 2
            await page.screenshot(path=shots / "07-search.png", full_page=True)

            # The moderation queue: approve the stranger's post.
            await page.goto(f"{base}/lists/{LIST}/held")
            await expect(page.get_by_text(STRANGER)).to_be_visible()
            await expect(
                page.get_by_text("The sender is not a member of the list.")
            ).to_be_visible()
            await page.screenshot(path=shots / "08-held.png", full_page=True)
            await page.get_by_role("button", name="Approve").click()
            await expect(page.get_by_role("status")).to_contain_text("Approved.")
            await page.screenshot(path=shots / "09-approved.png", full_page=True)
            await relay.wait_for(
                lambda: any(
                    "Sharing a phishing kit sample" in str(d.message["Subject"])
                    for d in relay.to(ALICE.email)
                ),
                timeout=30,
            )
            posts = await wait_for_archived(db, 3)
            assert posts[-1].participant == "A participant"

            # The same thread on a phone.
            phone = await chromium.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
            )
            await phone.add_cookies(await context.cookies())
            small = await phone.new_page()
            await small.goto(f"{base}/lists/{LIST}/threads/{archived[0].token}")
            await expect(small.get_by_role("heading", name="Participant B")).to_be_visible()
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the thread page scrolls sideways on a phone"
            await small.screenshot(path=shots / "10-phone-thread.png", full_page=True)
            await small.goto(f"{base}/lists/{LIST}/")
            await small.screenshot(path=shots / "11-phone-threads.png", full_page=True)

            # Sign out ends the session.
            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_text("You are signed out.")).to_be_visible()
            await page.goto(f"{base}/lists/{LIST}/")
            await expect(page).to_have_url(f"{base}/signin?next=/lists/{LIST}/")
            await phone.close()
            await context.close()
            assert problems == [], problems  # no CSP violations, no failed loads
            assert len(await archived_posts(db)) == 3
    finally:
        await db.dispose()
    assert len(list(shots.glob("*.png"))) == 11
