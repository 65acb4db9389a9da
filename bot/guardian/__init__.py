"""The guardian companion: caregiving answers, concern reports, links and who to call.

Pure logic and database helpers; the rasa-sdk actions in `actions/guardian.py` stay thin.
Texts live in `data/content/caregiving/` and `data/content/services.yml` (both languages).
"""
