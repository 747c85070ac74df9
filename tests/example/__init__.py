"""Tests of the shipped example model and batch algorithm, and nothing else.

When you replace apps/predictor/model.py or apps/worker/algorithm.py with your own, delete this
folder (or the half you replaced) and put your model's own tests here; the rest of tests/ proves
the framework with the fixtures in tests/fixtures/ and passes whatever model is there.
"""
