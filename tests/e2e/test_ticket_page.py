"""The visitor's own ticket page in a real browser: position, the call, then the rating."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from tests.acceptance.conftest import Hall
from tests.e2e.conftest import screenshot_path

HALL = "fumin"


def test_the_visitor_follows_the_ticket_and_rates_the_service(hall: Hall, browser: Any) -> None:
    hall.as_boss("POST", f"/halls/{HALL}/windows/1/open").raise_for_status()
    first, mine = hall.issue("A"), hall.issue("A")
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(hall.server.base + urlparse(str(mine["status_url"])).path)
    page.locator("#number").filter(has_text=str(mine["number"])).wait_for(timeout=5000)
    assert "前面还有 1 人" in page.locator("#detail").inner_text()

    def serve(ticket_id: object) -> None:
        hall.as_boss("POST", f"/tickets/{ticket_id}/start").raise_for_status()
        hall.as_boss("POST", f"/tickets/{ticket_id}/finish", {"outcome": "completed"}).raise_for_status()

    assert hall.as_boss("POST", f"/halls/{HALL}/windows/1/call-next").json()["ticket"]["id"] == first["id"]
    serve(first["id"])
    hall.as_boss("POST", f"/halls/{HALL}/windows/1/call-next").raise_for_status()
    page.locator("#status").filter(has_text="请到 1 号窗口办理").wait_for(timeout=5000)
    page.screenshot(path=str(screenshot_path("ticket-called.png")))
    serve(mine["id"])
    page.locator("#rate button[data-level='5']").click(timeout=5000)
    page.locator("#thanks").filter(has_text="感谢您的评价").wait_for(timeout=5000)
    rated = hall.as_boss("GET", f"/halls/{HALL}/evaluations").json()
    assert [(e["ticket"], e["level"], e["channel"]) for e in rated] == [(mine["id"], 5, "mobile")]
    # English and large type for those who need them, kept across reloads
    page.locator("#lang").click()
    page.locator("#large").click()
    page.reload()
    page.locator("#status").filter(has_text="Done").wait_for(timeout=5000)
    assert "large" in (page.locator("body").get_attribute("class") or "")
    page.screenshot(path=str(screenshot_path("ticket-done-en.png")))
    page.close()
