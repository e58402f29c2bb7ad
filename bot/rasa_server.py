"""The project's one Rasa runtime: Rasa's own CLI, with two of its hot spots fixed first.

`python -m bot.rasa_server <command> …` is `rasa <command> …` after `install()`. Every way of
starting Rasa as a server goes through it: `make serve`, `make web`, `make eval`, `make bench`,
`make fuzz`, the test stacks (all through `bot.launcher.rasa_run_cmd`), `make chat`
(`… shell`, bot/launcher.py), the scale-out nodes (deploy/cluster.py) and the Docker image
(deploy/docker/). Training and the offline checks stay plain `rasa`: the patches only touch
serving, and the model file is then built by unmodified Rasa (see bot/launcher.py).

The patches replace private methods of Rasa 3.6.21 (requirements.txt pins it; `install()`
logs a warning on any other version). Each one was found by profiling `make bench`, leaves
every output unchanged, and is covered by tests/test_rasa_server.py (output identity):

- the action server's reply is checked against Rasa's response schema with a validator built
  once (`_install_action_reply_check`);
- spaCy runs each pipe once per message and the model is loaded once (`_install_spacy_split`).

The SQLite tuning of the tracker store (WAL, one kept connection) is not a patch: it lives in
the project's own tracker store, bot/trackers.py.
"""
from __future__ import annotations

import functools
import logging
import sys
from functools import lru_cache

logger = logging.getLogger(__name__)

# The Rasa release the patches below were written against and checked with.
RASA_VERSION = "3.6.21"


@lru_cache(maxsize=1)
def _action_reply_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _install_action_reply_check() -> None:
    # Why: Rasa 3.6.21's RemoteAction._validate_action_result calls `jsonschema.validate`,
    # which re-checks the schema itself against the JSON-Schema meta-schema at every call:
    # ~40 % of Rasa's CPU per message in the `make bench` profile. Here the validator is built
    # once; a reply that fails the fast check goes through Rasa's own method, so the error
    # raised and logged is Rasa's, unchanged.
    # Upgrading Rasa: check that `_validate_action_result(self, result)` and the static
    # `action_response_format_spec()` still exist and that the former still only validates
    # against the latter (drop this patch if Rasa caches its validator itself).
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "_cached", False):
        return

    @functools.wraps(original)
    def validate(self, result):
        if _action_reply_validator().is_valid(result):
            return True
        return original(self, result)  # raises Rasa's own, documented error

    validate._cached = True
    RemoteAction._validate_action_result = validate


def _install_spacy_split() -> None:
    # Why: in Rasa 3.6.21, SpacyNLP parses the lower-cased text with the whole French pipeline
    # (`_doc_for_text`), then SpacyEntityExtractor.process parses the original text again with
    # it. The features (tok2vec, tags, lemmas) never read the first parse's entities, and the
    # French NER has its own embedding layer, so the first parse skips `ner` and the second
    # runs only `ner`: same features, same entities (checked on the 456 eval questions), half
    # the spaCy time.
    # Also, SpacyNLP.load_model is called once per graph node that needs the model (two in our
    # pipeline); caching it saves seconds of cold start and one copy of the model in memory.
    # Upgrading Rasa: check `SpacyNLP._doc_for_text(self, model, text)`, `_preprocess_text`,
    # `SpacyEntityExtractor.process(self, messages, model)` (does it still only read
    # `model.model(text).ents`?), the SpacyModel fields and the static `load_model(name)`.
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

    if getattr(SpacyNLP._doc_for_text, "_split", False):
        return

    @functools.wraps(SpacyNLP._doc_for_text)
    def doc_for_text(self, model, text):
        return model(self._preprocess_text(text), disable=[p for p in ("ner",) if p in model.pipe_names])

    extract = SpacyEntityExtractor.process

    # functools.wraps keeps Rasa's signature and type annotations, which `rasa train` validates.
    @functools.wraps(extract)
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


def check_rasa_version() -> bool:
    """True on the Rasa release the patches were written for; else log a clear warning."""
    from rasa.version import __version__ as installed

    if installed == RASA_VERSION:
        return True
    logger.warning(
        "bot.rasa_server: Rasa %s is installed, but its patches were written and checked against "
        "Rasa %s (requirements.txt). Re-check each patch in bot/rasa_server.py against the new "
        "Rasa source (see the 'Upgrading Rasa' comments) and run tests/test_rasa_server.py "
        "before relying on this version.", installed, RASA_VERSION)
    return False


def install() -> None:
    """Apply the patches (idempotent). Called by `main()` before Rasa's CLI starts."""
    check_rasa_version()
    _install_action_reply_check()
    _install_spacy_split()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
