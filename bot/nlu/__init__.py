"""Rasa NLU components: tokenizer, language detector, sentence-encoder featurizer."""
