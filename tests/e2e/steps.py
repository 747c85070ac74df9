"""Browser steps the end-to-end tests share: waiting for what Dash renders, signing in, uploading."""

from __future__ import annotations

from pathlib import Path

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


def wait(browser, timeout=30):
    # Dash re-renders the grid while we read it: an element gone stale just means "look again".
    return WebDriverWait(browser, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def text_of(browser, css, contains, timeout=30):
    """Wait until the element at `css` contains `contains`; return its text."""
    def found(b):
        text = b.find_element(By.CSS_SELECTOR, css).text
        return text if contains in text else False

    return wait(browser, timeout).until(found)


def sign_in(browser, stack, password=None):
    user, real = stack.login
    browser.get(stack.settings.dashboard_url + "/login")
    browser.find_element(By.ID, "user").clear()
    browser.find_element(By.ID, "user").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(real if password is None else password)
    browser.find_element(By.ID, "login-button").click()


def upload(browser, path: Path) -> None:
    # dcc.Upload's component loads asynchronously: its file input may appear after the page's text.
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#job-upload input[type=file]")))
    browser.find_element(By.CSS_SELECTOR, "#job-upload input[type=file]").send_keys(str(path))
