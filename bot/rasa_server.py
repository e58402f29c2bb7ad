"""Entry point of the Rasa server process: Rasa's own CLI, with its hot spots fixed first.

`python -m bot.rasa_server run …` is `rasa run …` (the launcher starts it this way) plus
these changes, each found by profiling `make bench` and each leaving every output unchanged:

- the action server's reply is checked against Rasa's response schema with a validator built
  once: `jsonschema.validate` re-checks the schema itself against the JSON-Schema meta-schema
  at every call, which the profile of `make bench` showed as ~40 % of Rasa's CPU per message.
  A reply that fails the fast check goes through Rasa's own check, so errors are unchanged;
- SQLite tracker stores run in WAL mode with `synchronous=NORMAL` (one write per message
  instead of a journal file plus two syncs; a crash of the process loses nothing, a power
  cut may lose the last messages) on one kept connection instead of a new one per query.
  Other databases are left as configured;
- spaCy runs each pipe once per message: Rasa's SpacyNLP parses the lower-cased text with the
  whole French pipeline, then SpacyEntityExtractor parses the original text again with it. The
  features (tok2vec, tags, lemmas) never read the first parse's entities, and the French NER
  has its own embedding layer, so the first parse skips `ner` and the second runs only `ner`:
  same features, same entities (checked on the 456 eval questions), half the spaCy time;
- the spaCy model is loaded once, not once per graph node that asks for it (two in our
  pipeline): seconds off the cold start and one copy of the model in memory.
"""
from __future__ import annotations

import functools
import sqlite3
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _action_reply_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _install_action_reply_check() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "_cached", False):
        return

    def validate(self, result):
        if _action_reply_validator().is_valid(result):
            return True
        return original(self, result)  # raises Rasa's own, documented error

    validate._cached = True
    RemoteAction._validate_action_result = validate


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _install_sqlite_tuning() -> None:
    import rasa.core.tracker_store as stores
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import SingletonThreadPool

    if event.contains(Engine, "connect", _sqlite_pragmas):
        return
    event.listen(Engine, "connect", _sqlite_pragmas)
    engine_kwargs = stores.create_engine_kwargs

    def kwargs_for(url):
        # SQLAlchemy 1.4 opens a new SQLite connection for every session (NullPool); Rasa's
        # store runs its queries on the event loop's thread, so one kept connection serves.
        if make_url(url).get_backend_name() == "sqlite":
            return {**engine_kwargs(url), "poolclass": SingletonThreadPool}
        return engine_kwargs(url)

    stores.create_engine_kwargs = kwargs_for


def _install_spacy_split() -> None:
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

    if getattr(SpacyNLP._doc_for_text, "_split", False):
        return

    def doc_for_text(self, model, text):
        return model(self._preprocess_text(text), disable=[p for p in ("ner",) if p in model.pipe_names])

    extract = SpacyEntityExtractor.process

    def process(self, messages, model):
        nlp = model.model
        if "ner" not in nlp.pipe_names:
            return extract(self, messages, model)
        ner_only = functools.partial(nlp, disable=[p for p in nlp.pipe_names if p != "ner"])
        return extract(self, messages, SpacyModel(model=ner_only, model_name=model.model_name))

    doc_for_text._split = True
    SpacyNLP._doc_for_text = doc_for_text
    SpacyEntityExtractor.process = process
    SpacyNLP.load_model = staticmethod(functools.lru_cache(maxsize=4)(SpacyNLP.load_model))


def install() -> None:
    _install_action_reply_check()
    _install_sqlite_tuning()
    _install_spacy_split()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
