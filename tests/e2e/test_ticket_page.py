"""The visitor's own ticket page in a real browser: position, the call, then the rating."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

from tests.acceptance.conftest import hall_env, onedoor, start_server
from tests.e2e.conftest import screenshot_path

HALL = "fumin"


def test_the_visitor_follows_the_ticket_and_rates_the_service(tmp_path: Path, browser: Any) -> None:
    env = hall_env(tmp_path)
    assert onedoor(env, "init").returncode == 0
    kiosk = onedoor(env, "device", "add", "--hall", HALL, "--kind", "kiosk").stdout.strip()
    assert onedoor(env, "user", "add", "boss", "--role", "manager", "--hall", HALL,
                   stdin="manager-pass-1\n").returncode == 0
    server = start_server(env, tmp_path / "serve.log")
    try:
        boss = {"Authorization": "Bearer " + requests.post(
            server.url("/auth/login"), json={"username": "boss", "password": "manager-pass-1"}, timeout=10
        ).json()["token"]}
        requests.post(server.url(f"/halls/{HALL}/windows/1/open"), headers=boss, timeout=10).raise_for_status()
        issued = [requests.post(server.url(f"/halls/{HALL}/tickets"), headers={"Authorization": f"Bearer {kiosk}"},
                                json={"category": "A", "channel": "kiosk"}, timeout=10).json() for _ in range(2)]
        mine = issued[1]
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(server.base + urlparse(mine["status_url"]).path)
        page.locator("#number").filter(has_text=mine["number"]).wait_for(timeout=5000)
        assert "前面还有 1 人" in page.locator("#detail").inner_text()
        call = lambda: requests.post(server.url(f"/halls/{HALL}/windows/1/call-next"), headers=boss, timeout=10)  # noqa: E731
        first = call().json()["ticket"]
        for move, body in (("start", None), ("finish", {"outcome": "completed"})):
            requests.post(server.url(f"/tickets/{first['id']}/{move}"), headers=boss, json=body, timeout=10)
        call()
        page.locator("#status").filter(has_text="请到 1 号窗口办理").wait_for(timeout=5000)
        page.screenshot(path=str(screenshot_path("ticket-called.png")))
        for move, body in (("start", None), ("finish", {"outcome": "completed"})):
            requests.post(server.url(f"/tickets/{mine['id']}/{move}"), headers=boss, json=body, timeout=10)
        page.locator("#rate button[data-level='5']").click(timeout=5000)
        page.locator("#thanks").filter(has_text="感谢您的评价").wait_for(timeout=5000)
        rated = requests.get(server.url(f"/halls/{HALL}/evaluations"), headers=boss, timeout=10).json()
        assert [(e["ticket"], e["level"], e["channel"]) for e in rated] == [(mine["id"], 5, "mobile")]
        # English and large type for those who need them, kept across reloads
        page.locator("#lang").click()
        page.locator("#large").click()
        page.reload()
        page.locator("#status").filter(has_text="Done").wait_for(timeout=5000)
        assert "large" in (page.locator("body").get_attribute("class") or "")
        page.screenshot(path=str(screenshot_path("ticket-done-en.png")))
        page.close()
    finally:
        assert server.stop() == 0
