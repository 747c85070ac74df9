"""What a stakeholder does, in a real browser against the local stack: sign in, predict, run a
batch job and download its result, leave feedback and see it counted. Writes docs/tour/*.png."""

from __future__ import annotations

import csv
import io
import random
import urllib.request
from pathlib import Path

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOUR = Path(__file__).resolve().parents[2] / "docs" / "tour"


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


def big_csv(path: Path, rows: int) -> Path:
    """A customer table big enough that the segmentation runs for a few seconds."""
    rng = random.Random(3)
    centres = [(1200, 3, 45, 30), (400, 8, 20, 6), (2500, 1.5, 120, 60)]
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["customer_id", "annual_spend", "visits_per_month", "avg_basket", "tenure_months"])
        for n in range(rows):
            c = centres[n % 3]
            out.writerow([f"C{n:06d}", round(rng.gauss(c[0], c[0] / 6), 2), round(abs(rng.gauss(c[1], 1)), 1),
                          round(abs(rng.gauss(c[2], c[2] / 5)), 2), max(1, int(rng.gauss(c[3], 5)))])
    return path


def upload(browser, path: Path) -> None:
    browser.find_element(By.CSS_SELECTOR, "#job-upload input[type=file]").send_keys(str(path))


def test_a_wrong_password_shows_a_message(browser, stack):
    sign_in(browser, stack, password="not-the-password")
    assert "do not match" in text_of(browser, "#login-message", "do not match")
    assert "not-the-password" not in browser.page_source


def test_sign_in_and_get_a_prediction_with_its_chart(browser, stack):
    sign_in(browser, stack)
    assert text_of(browser, "#model-title", "Iris")  # the form comes from the predictor's describe
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-label")]
    assert "Petal length (cm)" in labels
    browser.find_element(By.ID, "predict-button").click()
    label = wait(browser, 60).until(lambda b: b.find_element(By.ID, "prediction-label").text)
    assert "versicolor" in label.lower()  # the defaults describe a versicolor
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#prediction-chart .main-svg")))
    assert "iris-logreg" in browser.find_element(By.CSS_SELECTOR, ".result-card").text
    assert browser.find_element(By.ID, "prediction-latency").text.endswith(")")
    # Leave feedback on the prediction.
    box = browser.find_element(By.CSS_SELECTOR, ".result-card .feedback-box")
    box.find_element(By.TAG_NAME, "textarea").send_keys("Looks right to me")
    box.find_element(By.CSS_SELECTOR, "button.thumb.up").click()
    text_of(browser, ".result-card .feedback-status", "recorded")
    browser.save_screenshot(str(TOUR / "predict.png"))
    (prediction,) = stack.store.list_recent_predictions().items
    assert prediction.owner == stack.login[0] and prediction.output["label"] == label


def test_an_out_of_range_input_is_flagged_at_its_field(browser, stack):
    browser.get(stack.settings.dashboard_url + "/predict")
    field = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field input[type=number]")))
    field.clear()
    field.send_keys("99")
    browser.find_element(By.ID, "predict-button").click()
    assert "between" in text_of(browser, ".field-error", "between")


def test_a_malformed_csv_shows_its_message(browser, stack, tmp_path):
    browser.get(stack.settings.dashboard_url + "/jobs")
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b,c\n1,2,3\n4,5\n")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#job-upload input[type=file]")))
    upload(browser, bad)
    assert "row 3 has 2 values" in text_of(browser, "#submit-error", "row 3")
    assert stack.store.list_recent().items == []


def test_batch_job_runs_to_success_with_charts_and_a_download(browser, stack, tmp_path):
    rows = 60_000
    data = big_csv(tmp_path / "customers.csv", rows)
    browser.get(stack.settings.dashboard_url + "/jobs")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#job-upload input[type=file]")))
    upload(browser, data)
    text_of(browser, "#submit-message", "Job submitted")
    # The table refreshes itself: the job appears, starts running, then finishes.
    wait(browser, 60).until(lambda b: "Running" in b.find_element(By.ID, "jobs-grid").text)
    # Wait for the worker's first progress report, so the screenshot shows a moving bar.
    wait(browser, 60).until(lambda b: any(
        e.text.endswith("%") and e.text != "0%"
        for e in b.find_elements(By.CSS_SELECTOR, "#jobs-grid .progress-label")))
    browser.save_screenshot(str(TOUR / "jobs.png"))
    browser.find_element(By.CSS_SELECTOR, "#jobs-grid a.job-link").click()
    text_of(browser, "#job-status", "Succeeded", timeout=180)
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#result-charts .main-svg")) >= 2)
    assert "Results are kept for 30 days" in browser.find_element(By.ID, "retention-note").text
    assert browser.find_element(By.ID, "logs-link").get_attribute("href").endswith("/logs")
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(TOUR / "job-detail.png"))
    href = browser.find_element(By.ID, "download-result").get_attribute("href")
    assert href.startswith(stack.settings.aws_url)  # presigned S3, not proxied by the dashboard
    with urllib.request.urlopen(href, timeout=30) as response:  # noqa: S310 - moto on loopback
        result = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert len(result) == rows and "segment" in result[0] and result[0]["customer_id"] == "C000000"
    # Feedback on the job, then the feedback page counts both.
    box = browser.find_element(By.CSS_SELECTOR, ".feedback-box")
    box.find_element(By.TAG_NAME, "textarea").send_keys("Segment 3 looks too small")
    box.find_element(By.CSS_SELECTOR, "button.thumb.down").click()
    text_of(browser, ".feedback-status", "thumbs down was recorded")


def test_feedback_is_counted_per_model_version(browser, stack):
    browser.get(stack.settings.dashboard_url + "/feedback")
    table = text_of(browser, "#feedback-table", "segments")
    lines = {line.split(" ")[0]: line.split(" ")[1:] for line in table.splitlines()[1:]}
    iris = next(v for k, v in lines.items() if k.startswith("iris"))
    segments = next(v for k, v in lines.items() if k.startswith("segments"))
    assert iris[:2] == ["1", "0"] and segments[:2] == ["0", "1"]
    assert "Segment 3 looks too small" in browser.find_element(By.CSS_SELECTOR, ".comments").text


def test_sign_out_returns_to_the_login_page(browser, stack):
    browser.get(stack.settings.dashboard_url + "/jobs")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "logout-link"))).click()
    text_of(browser, "#login-message", "signed out")
    browser.get(stack.settings.dashboard_url + "/jobs")
    wait(browser).until(lambda b: "/login" in b.current_url)
