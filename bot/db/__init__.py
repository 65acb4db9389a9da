"""Database: models, the engine factory, migrations and the Rasa tracker store."""
