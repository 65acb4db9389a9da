"""Peiban's Rasa channels: Telegram on python-telegram-bot 22 and the browser chat page."""
