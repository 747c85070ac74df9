"""What a stakeholder does, in a real browser against the local stack: sign in, predict (an example
in one click, each class's probability as a number), read what the batch job does and its
parameter form, have an unusable file refused on the spot with the reason, run a batch job and
read its results in plain language, download them, vote and change the vote, and see it counted
once. Writes docs/tour/*.png.

It drives the shipped example on purpose (the screenshots in docs/tour show it), so it lives in
tests/example/ and goes with the example; the framework's own browser tests are in tests/e2e/."""

from __future__ import annotations

import csv
import io
import random
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.e2e.steps import sign_in, text_of, upload, wait

# Deadlines for what waits on a worker process or a Lambda instance starting (scikit-learn's imports)
# and on the 60,000-row job: a fresh-clone `make test` beside another on a loaded 2-core machine
# took over the 60 s these had. They are deadlines, polled: a fast machine never waits them out.
STARTS = 240
JOB_RUNS = 420
# pytest's 300 s default would cut these short (and the first test also waits for the stack to start).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(2 * STARTS + 120)]

TOUR = Path(__file__).resolve().parents[3] / "docs" / "tour"
WEBGL = "WebGL is not supported"


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
    label = wait(browser, STARTS).until(lambda b: b.find_element(By.ID, "prediction-label").text)
    assert "versicolor" in label.lower()  # the defaults describe a versicolor
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#prediction-chart .main-svg")))
    assert "iris-logreg" in browser.find_element(By.CSS_SELECTOR, ".result-card").text
    assert browser.find_element(By.ID, "prediction-latency").text.endswith(")")
    # Each species' probability is written beside its bar, not only shown on hover.
    numbers = wait(browser).until(lambda b: [e.text for e in b.find_elements(
        By.CSS_SELECTOR, "#prediction-chart .bartext") if e.text.endswith("%")])
    assert len(numbers) == 3
    assert "active" in browser.find_element(By.ID, "nav-predict").get_attribute("class")
    # Leave feedback on the prediction.
    box = browser.find_element(By.CSS_SELECTOR, ".result-card .feedback-box")
    box.find_element(By.TAG_NAME, "textarea").send_keys("Looks right to me")
    box.find_element(By.CSS_SELECTOR, "button.thumb.up").click()
    text_of(browser, ".result-card .feedback-status", "recorded")
    browser.save_screenshot(str(TOUR / "predict.png"))
    (prediction,) = stack.store.list_recent_predictions().items
    assert prediction.owner == stack.login[0] and prediction.output["label"] == label


def test_an_example_fills_the_form_in_one_click(browser, stack):
    browser.get(stack.settings.dashboard_url + "/predict")
    example = wait(browser).until(ec.element_to_be_clickable(
        (By.XPATH, "//button[contains(@class, 'example') and contains(., 'virginica')]")))
    example.click()
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".field input[type=number]")[2]
                        .get_attribute("value") == "5.6")
    browser.find_element(By.ID, "predict-button").click()
    label = text_of(browser, "#prediction-label", "virginica", timeout=STARTS)
    assert "virginica" in label.lower()


def test_an_out_of_range_input_is_flagged_at_its_field(browser, stack):
    browser.get(stack.settings.dashboard_url + "/predict")
    field = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field input[type=number]")))
    field.clear()
    field.send_keys("99")
    browser.find_element(By.ID, "predict-button").click()
    assert "between" in text_of(browser, ".field-error", "between")


def test_the_batch_page_says_what_the_job_does_with_a_form_for_its_parameters(browser, stack):
    browser.get(stack.settings.dashboard_url + "/jobs")
    # Opening the page starts a worker, which publishes the algorithm's description as it starts.
    assert "Customer segments" in text_of(browser, "#batch-title", "Customer segments", timeout=STARTS)
    assert "groups of similar rows" in browser.find_element(By.ID, "batch-description").text
    rules = browser.find_element(By.ID, "batch-input-rules").text
    assert "Between 10 and 100,000 data rows." in rules and "At least 2 numeric columns" in rules
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#batch-params .field-label")]
    assert labels == ["Fewest segments", "Most segments"]
    values = [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "#batch-params input")]
    assert values == ["2", "8"]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("cities.csv", "name,city\n" + "Ann,Oslo\n" * 12, "cities.csv has 0 numeric columns (none); Customer segments "
                                                       "needs at least 2."),
    ("tiny.csv", "spend,visits\n1,2\n3,4\n5,6\n", "tiny.csv has 3 data rows; Customer segments needs at least 10."),
])
def test_a_file_the_job_cannot_use_is_refused_on_the_spot(browser, stack, tmp_path, name, content, reason):
    browser.get(stack.settings.dashboard_url + "/jobs")
    text_of(browser, "#batch-title", "Customer segments", timeout=STARTS)
    bad = tmp_path / name
    bad.write_text(content)
    upload(browser, bad)
    assert reason in text_of(browser, "#submit-error", reason)
    if name == "cities.csv":
        browser.save_screenshot(str(TOUR / "refused-upload.png"))
    assert stack.store.list_recent().items == []


def test_a_malformed_csv_shows_its_message(browser, stack, tmp_path):
    browser.get(stack.settings.dashboard_url + "/jobs")
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b,c\n1,2,3\n4,5\n")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#job-upload input[type=file]")))
    upload(browser, bad)
    assert "row 3 has 2 values" in text_of(browser, "#submit-error", "row 3")
    assert stack.store.list_recent().items == []


@pytest.mark.timeout(STARTS + JOB_RUNS + 300)
def test_batch_job_runs_to_success_with_charts_and_a_download(browser, stack, tmp_path):
    rows = 60_000
    data = big_csv(tmp_path / "customers.csv", rows)
    browser.get(stack.settings.dashboard_url + "/jobs")
    text_of(browser, "#batch-title", "Customer segments", timeout=STARTS)
    k_max = browser.find_elements(By.CSS_SELECTOR, "#batch-params input")[1]
    k_max.clear()
    k_max.send_keys("5")
    browser.find_element(By.ID, "job-note").send_keys("March customers")
    browser.save_screenshot(str(TOUR / "batch-form.png"))
    upload(browser, data)
    text_of(browser, "#submit-message", "Job submitted")
    # The table refreshes itself: the job appears, starts running, then finishes (a fast machine
    # may finish it between two looks, so a finished job passes these waits too).
    wait(browser, STARTS).until(lambda b: any(
        state in b.find_element(By.ID, "jobs-grid").text for state in ("Running", "Succeeded")))
    # Wait for the worker's first progress report, so the screenshot shows a moving bar.
    wait(browser, JOB_RUNS).until(lambda b: "Succeeded" in b.find_element(By.ID, "jobs-grid").text or any(
        e.text.endswith("%") and e.text != "0%"
        for e in b.find_elements(By.CSS_SELECTOR, "#jobs-grid .progress-label")))
    browser.execute_script("document.getElementById('jobs-grid').closest('section').scrollIntoView()")
    browser.save_screenshot(str(TOUR / "jobs.png"))
    assert "March customers" in browser.find_element(By.ID, "jobs-grid").text
    browser.find_element(By.CSS_SELECTOR, "#jobs-grid a.job-link").click()
    text_of(browser, "#job-status", "Succeeded", timeout=JOB_RUNS)
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#result-charts .main-svg")) >= 2)
    assert browser.find_element(By.CSS_SELECTOR, "h1.job-title").text == "March customers"
    assert "Results are kept for 30 days" in browser.find_element(By.ID, "retention-note").text
    # Plain language: every metric and chart carries the algorithm's one-line explanation, and the
    # segments are named by what sets them apart.
    notes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#job-metrics .metric-note")]
    assert len(notes) == 5 and all(notes)
    captions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#result-charts .chart-note")]
    assert len(captions) == 4 and all(captions)
    metrics = browser.find_element(By.ID, "job-metrics").text
    assert "Silhouette" not in metrics and "SEPARATION" in metrics.upper()
    summary = stack.store.read_summary(stack.store.list_recent().items[0])
    names = [segment["name"] for segment in summary["segments"]]
    assert not any(name.startswith("Segment ") for name in names) and any(n.startswith(("High", "Low")) for n in names)
    assert browser.find_element(By.ID, "logs-link").get_attribute("href").endswith("#job-logs")
    assert "job finished" in browser.find_element(By.ID, "job-logs").text  # readable lines, not raw JSON
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(TOUR / "job-detail.png"))
    browser.execute_script("document.getElementById('result-charts').scrollIntoView()")
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#result-charts .main-svg")) >= 4)
    assert WEBGL not in browser.page_source  # the segment scatter is SVG, drawn in any browser
    browser.save_screenshot(str(TOUR / "job-results.png"))
    href = browser.find_element(By.ID, "download-result").get_attribute("href")
    assert href.endswith("/result.csv") and href.startswith(stack.settings.dashboard_url)  # signed when clicked
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    for cookie in browser.get_cookies():
        opener.addheaders.append(("Cookie", f"{cookie['name']}={cookie['value']}"))
    with opener.open(href, timeout=30) as response:  # redirected to a freshly presigned S3 URL
        assert response.geturl().startswith(stack.settings.aws_url)
        result = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert len(result) == rows and result[0]["segment_name"] in names and result[0]["customer_id"] == "C000000"
    # Feedback on the job: a thumbs up, then changed to a thumbs down; the buttons show the choice.
    box = browser.find_element(By.CSS_SELECTOR, ".feedback-box")
    box.find_element(By.CSS_SELECTOR, "button.thumb.up").click()
    wait(browser).until(lambda b: "chosen" in box.find_element(By.CSS_SELECTOR, "button.thumb.up")
                        .get_attribute("class"))
    box.find_element(By.TAG_NAME, "textarea").send_keys("The smallest segment looks too small")
    box.find_element(By.CSS_SELECTOR, "button.thumb.down").click()
    text_of(browser, ".feedback-status", "thumbs down was recorded")
    assert "chosen" in box.find_element(By.CSS_SELECTOR, "button.thumb.down").get_attribute("class")
    assert "chosen" not in box.find_element(By.CSS_SELECTOR, "button.thumb.up").get_attribute("class")


def test_feedback_is_counted_per_model_version(browser, stack):
    browser.get(stack.settings.dashboard_url + "/feedback")
    table = text_of(browser, "#feedback-table", "segments")
    lines = {line.split(" ")[0]: line.split(" ")[1:] for line in table.splitlines()[1:]}
    iris = next(v for k, v in lines.items() if k.startswith("iris"))
    segments = next(v for k, v in lines.items() if k.startswith("segments"))
    assert iris[:2] == ["1", "0"] and segments[:2] == ["0", "1"]  # the changed vote counts once, as a down
    assert "The smallest segment looks too small" in browser.find_element(By.CSS_SELECTOR, ".comments").text
    browser.save_screenshot(str(TOUR / "feedback.png"))


def test_sign_out_returns_to_the_login_page(browser, stack):
    browser.get(stack.settings.dashboard_url + "/jobs")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "logout-link"))).click()
    text_of(browser, "#login-message", "signed out")
    browser.get(stack.settings.dashboard_url + "/jobs")
    wait(browser).until(lambda b: "/login" in b.current_url)
