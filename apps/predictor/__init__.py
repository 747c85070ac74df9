"""The realtime predictor: a container-image Lambda that describes its model and predicts one record.

`model.py` is the data scientist's edit surface; `handler.handler` is the Lambda entry point.
"""
