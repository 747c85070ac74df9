"""`make test` does not collect the built-image tests: they need an engine and the images, which
`make images-test` builds before it runs them (with IMAGES_TEST_TAG set). Not collected rather
than skipped, so no run counts them as passed."""

import os

collect_ignore = [] if os.environ.get("IMAGES_TEST_TAG") else ["test_built_images.py"]
