"""The Rasa model: `model` (train, cache by the hash of the inputs, load, parse) and the
components the Rasa graph imports by path, `components` (tokenizer, intent classifier) and
`answers` (which of an intent's questions was asked)."""
