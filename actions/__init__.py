"""Custom actions for the rasa-sdk action server, one module per concern.

`rasa run actions --actions actions` imports every module in this package.
"""
