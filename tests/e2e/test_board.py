"""The hall display board in a real browser: a call made through the API appears at once."""

from __future__ import annotations

from typing import Any

from tests.acceptance.conftest import Hall
from tests.e2e.conftest import screenshot_path

HALL = "fumin"


def test_a_call_appears_on_the_board_and_flashes(hall: Hall, browser: Any) -> None:
    hall.as_boss("POST", f"/halls/{HALL}/windows/1/open").raise_for_status()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{hall.server.base}/board/{HALL}?token={hall.board}")
    page.wait_for_selector(".window[data-window='1']")
    assert "token=" not in page.url  # the token is kept by the page, not left in the address bar
    assert page.locator("header h1").inner_text() == "富民县政务服务中心"
    t = hall.issue("A")
    hall.as_boss("POST", f"/halls/{HALL}/windows/1/call-next").raise_for_status()
    ticket = page.locator(".window[data-window='1'] .ticket")
    ticket.filter(has_text=str(t["number"])).wait_for(timeout=5000)
    assert "flash" in (page.locator(".window[data-window='1']").get_attribute("class") or "")
    assert str(t["number"]) in page.locator("#recent").inner_text()
    page.screenshot(path=str(screenshot_path("board.png")))
    # the page survives a reload with the kept token
    page.reload()
    page.locator(".window[data-window='1'] .ticket").filter(has_text=str(t["number"])).wait_for(timeout=5000)
    page.close()
