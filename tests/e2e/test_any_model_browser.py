"""Any model in a real browser: the local stack runs a copy of apps/ with the fixture regressor
(a number with an interval, a numeric Choice) and the every-parameter batch algorithm (choices, a
column picker, its own sample). A stakeholder picks the numeric choice and gets an accepted answer
with its number and interval, fills the column picker from an uploaded file and submits it, and
never sees "WebGL is not supported"."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from devstack.stack import DevStack
from tests.e2e.steps import sign_in, text_of, upload, wait
from tests.fixtures.apps import REGRESSOR, apps_with
from tests.fixtures.models import regressor
from tests.predictor.lambda_support import readable_dir
from tests.support import stack_settings

pytestmark = [pytest.mark.browser]

WEBGL = "WebGL is not supported"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The local stack on a copy of apps/ holding the fixtures, not the shipped example."""
    root = readable_dir("any-model-")
    apps = apps_with(root / "apps", model=REGRESSOR)
    settings = stack_settings(
        tmp_path_factory.mktemp("stack"), apps_dir=apps, lambda_instances=1, max_workers=1,
        extra_env={"WORKER_IDLE_SECONDS": "20", "WORKER_HEARTBEAT_SECONDS": "0.5", "RECONCILE_SECONDS": "3"},
    )
    local = DevStack(settings)
    local.start()
    yield local
    local.stop()
    shutil.rmtree(root, ignore_errors=True)


def choose(browser, field_index: int, option_text: str) -> None:
    """Open the dropdown of the `field_index`th form field and click the option with that text."""
    fields = browser.find_elements(By.CSS_SELECTOR, "#predict-fields .field")
    fields[field_index].find_element(By.CSS_SELECTOR, ".Select, .dash-dropdown, [role=combobox]").click()
    option = wait(browser).until(ec.element_to_be_clickable(
        (By.XPATH, f"//*[(@role='option' or contains(@class, 'option')) and normalize-space(.)='{option_text}']")))
    option.click()


def test_a_numeric_choice_is_selectable_and_a_regression_answer_shows_its_number_and_interval(browser, stack):
    sign_in(browser, stack)
    assert text_of(browser, "#model-title", regressor.TITLE)
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-label")]
    band = labels.index("Floor band (0 ground, 1 middle, 2 top)")
    # The numeric choice's default (1) shows in its dropdown: not blank, as a "1" text value was.
    field = browser.find_elements(By.CSS_SELECTOR, "#predict-fields .field")[band]
    assert "1" in wait(browser).until(lambda b: field.text.split("\n")[1:] and field.text)
    choose(browser, band, "2")
    browser.find_element(By.ID, "predict-button").click()
    label = wait(browser, 60).until(lambda b: b.find_element(By.ID, "prediction-label").text)
    assert label.startswith("About €")
    number = browser.find_element(By.ID, "output-number").text
    interval = browser.find_element(By.ID, "output-interval").text
    rent = 200 + 14 * 60 + 60 * 2 + 350 + 40 * 2  # the fixture's defaults, floor band 2 (the choice made)
    assert number == f"{rent:,} €" and interval == f"between {rent * 0.9:,.0f} € and {rent * 1.1:,.0f} €"
    assert browser.find_elements(By.CSS_SELECTOR, ".field-error") and not any(
        e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-error"))  # accepted: no field refused
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#prediction-chart .main-svg")))
    [prediction] = stack.store.list_recent_predictions().items
    assert prediction.inputs["floor_band"] == 2
    assert WEBGL not in browser.page_source


def test_an_off_step_number_is_refused_naming_the_step(browser, stack):
    browser.get(stack.settings.dashboard_url + "/predict")
    area = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field input[type=number]")))
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys("60.25")
    browser.find_element(By.ID, "predict-button").click()
    assert "multiple of 0.5 from 15" in text_of(browser, ".field-error", "multiple of")


def test_the_column_picker_is_filled_from_an_uploaded_file_which_waits_for_submit(browser, stack, tmp_path):
    browser.get(stack.settings.dashboard_url + "/jobs")
    text_of(browser, "#batch-title", "Fixture scores", timeout=60)  # the worker published the fixture's description
    samples = browser.find_element(By.ID, "sample-choice").text
    assert "fixture-scores.csv" in samples  # the algorithm's own sample, not the dashboard's bundled files
    data = tmp_path / "shops.csv"
    data.write_text("shop,visits,revenue\n" + "".join(f"S{n},{n % 7},{n * 3.5}\n" for n in range(12)))
    upload(browser, data)
    assert "shops.csv is ready" in text_of(browser, "#upload-held", "is ready")
    assert stack.store.list_recent().items == []  # held, not submitted
    picker = browser.find_element(By.CSS_SELECTOR, "#batch-params .field:nth-of-type(5)")
    picker.find_element(By.CSS_SELECTOR, ".Select, .dash-dropdown, [role=combobox]").click()
    offered = wait(browser).until(lambda b: [e.text for e in b.find_elements(By.CSS_SELECTOR, "[role=option]")
                                             if e.text])
    assert offered == ["visits", "revenue"]  # the file's numeric columns ('shop' is text)
    next(e for e in browser.find_elements(By.CSS_SELECTOR, "[role=option]") if e.text == "revenue").click()
    browser.find_element(By.ID, "file-submit").click()
    text_of(browser, "#submit-message", "Job submitted")
    [job] = stack.store.list_recent().items
    assert job.input_name == "shops.csv" and job.params["rank_by"] == "revenue"
    browser.find_element(By.ID, "submitted-job-link").click()
    text_of(browser, "#job-status", "Succeeded", timeout=120)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#result-charts .main-svg"))
    assert WEBGL not in browser.page_source


def test_sign_out_is_a_button_that_posts_and_a_link_to_logout_ends_nothing(browser, stack):
    """Last in this module: it signs the browser out. Following a plain link to /logout (as a page
    of another site could make the browser do) leaves the session alone; the page's own Sign out
    button (a POST with the CSRF token) ends it."""
    base = stack.settings.dashboard_url
    sign_in(browser, stack)
    wait(browser).until(ec.presence_of_element_located((By.ID, "current-user")))
    browser.get(base + "/logout")
    browser.get(base + "/jobs")
    wait(browser).until(ec.presence_of_element_located((By.ID, "current-user")))
    assert "/login" not in browser.current_url
    button = wait(browser).until(ec.element_to_be_clickable((By.ID, "logout-link")))
    assert button.tag_name == "button"
    button.click()
    text_of(browser, "#login-message", "signed out")
    browser.get(base + "/jobs")
    wait(browser).until(lambda b: "/login" in b.current_url)
