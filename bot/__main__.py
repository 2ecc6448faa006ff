import warnings

# Rasa's dependencies (TensorFlow, matplotlib, SQLAlchemy) warn about their own deprecations
# at import; they say nothing to the people running the bot.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*deprecated.*")

from bot.tools.cli import main  # noqa: E402

raise SystemExit(main())
