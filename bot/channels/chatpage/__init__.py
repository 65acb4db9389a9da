"""The browser chat page: static files plus a same-origin proxy to Rasa's REST channel.

Mount it with :func:`bot.channels.chatpage.routes.add_routes`.
"""
