"""The hall display board in a real browser: a call made through the API appears at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tests.acceptance.conftest import hall_env, onedoor, start_server
from tests.e2e.conftest import screenshot_path

HALL = "fumin"


def test_a_call_appears_on_the_board_and_flashes(tmp_path: Path, browser: Any) -> None:
    env = hall_env(tmp_path)
    assert onedoor(env, "init").returncode == 0
    board = onedoor(env, "device", "add", "--hall", HALL, "--kind", "board").stdout.strip()
    kiosk = onedoor(env, "device", "add", "--hall", HALL, "--kind", "kiosk").stdout.strip()
    assert onedoor(env, "user", "add", "boss", "--role", "manager", "--hall", HALL,
                   stdin="manager-pass-1\n").returncode == 0
    server = start_server(env, tmp_path / "serve.log")
    try:
        boss = {"Authorization": "Bearer " + requests.post(
            server.url("/auth/login"), json={"username": "boss", "password": "manager-pass-1"}, timeout=10
        ).json()["token"]}
        requests.post(server.url(f"/halls/{HALL}/windows/1/open"), headers=boss, timeout=10).raise_for_status()
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{server.base}/board/{HALL}?token={board}")
        page.wait_for_selector(".window[data-window='1']")
        assert "token=" not in page.url  # the token is kept by the page, not left in the address bar
        assert page.locator("header h1").inner_text() == "富民县政务服务中心"
        t = requests.post(server.url(f"/halls/{HALL}/tickets"), headers={"Authorization": f"Bearer {kiosk}"},
                          json={"category": "A", "channel": "kiosk"}, timeout=10).json()
        requests.post(server.url(f"/halls/{HALL}/windows/1/call-next"), headers=boss, timeout=10).raise_for_status()
        ticket = page.locator(".window[data-window='1'] .ticket")
        ticket.filter(has_text=t["number"]).wait_for(timeout=5000)
        assert "flash" in (page.locator(".window[data-window='1']").get_attribute("class") or "")
        assert t["number"] in page.locator("#recent").inner_text()
        page.screenshot(path=str(screenshot_path("board.png")))
        # the page survives a reload with the kept token
        page.reload()
        page.locator(".window[data-window='1'] .ticket").filter(has_text=t["number"]).wait_for(timeout=5000)
        page.close()
    finally:
        assert server.stop() == 0
