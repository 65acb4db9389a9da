"""Shared test fakes (owned by the Telegram channel engineer; ask before changing behaviour)."""
