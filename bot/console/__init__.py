"""The social-worker console: an aiohttp app on :8080 (health, console, chat page)."""
