"""Rasa dialogue components of our own (the safety policy)."""
