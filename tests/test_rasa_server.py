"""The Rasa runtime's patches change no output (bot/rasa_server.py), on Rasa 3.6.21."""
import logging

import pytest
import spacy
from jsonschema import ValidationError

from bot import rasa_server


@pytest.fixture(scope="module", autouse=True)
def installed():
    rasa_server.install()
    rasa_server.install()  # idempotent: a second call must not wrap twice


def test_action_reply_check_still_rejects_bad_replies():
    from rasa.core.actions.action import RemoteAction
    action = RemoteAction("action_answer", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "ok"}]})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"event": "slot", "name": 3}], "responses": "x"})


def test_action_reply_check_raises_rasa_s_own_error():
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    bad = {"events": [{"event": "slot", "name": 3}], "responses": "x"}
    with pytest.raises(ValidationError) as expected:
        jsonschema.validate(bad, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError) as got:
        RemoteAction("action_answer", None)._validate_action_result(bad)
    assert got.value.message.startswith(expected.value.message + ". Failed to validate Action server")


def test_rasa_s_sql_store_is_left_alone():
    # The SQLite tuning lives in bot/trackers.py, on that store's own engine only.
    import rasa.core.tracker_store as stores
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bot import trackers
    assert stores.create_engine_kwargs.__module__ == "rasa.core.tracker_store"
    assert stores.create_engine_kwargs("sqlite:///x.db") == {}
    assert not event.contains(Engine, "connect", trackers._sqlite_pragmas)  # no process-wide listener


def test_other_rasa_version_is_warned_about(monkeypatch, caplog):
    import rasa.version
    assert rasa_server.check_rasa_version()  # the pinned one (requirements.txt)
    monkeypatch.setattr(rasa.version, "__version__", "3.7.0")
    with caplog.at_level(logging.WARNING, logger="bot.rasa_server"):
        assert not rasa_server.check_rasa_version()
    assert "Rasa 3.7.0 is installed" in caplog.text and rasa_server.RASA_VERSION in caplog.text


def test_spacy_split_gives_the_same_features_and_entities():
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
    from rasa.shared.nlu.training_data.message import Message

    model = SpacyModel(SpacyNLP.load_model("fr_core_news_sm").model, "fr_core_news_sm")
    assert SpacyNLP.load_model("fr_core_news_sm").model is model.model  # loaded once
    reference = spacy.load("fr_core_news_sm", disable=["parser"])
    text = "Bonjour, je voudrais étudier le DEIS à Montpellier ou le master à Rennes."
    doc = SpacyNLP(model, {"case_sensitive": False})._doc_for_text(model.model, text)
    full = reference(text.lower())
    assert [t.lemma_ for t in doc] == [t.lemma_ for t in full] and (doc.tensor == full.tensor).all()
    message = SpacyEntityExtractor({"dimensions": None}).process([Message.build(text)], model)[0]
    found = {(e["value"], e["entity"]) for e in message.get("entities")}
    assert found == {(e.text, e.label_) for e in reference(text).ents} and ("Montpellier", "LOC") in found


def test_patched_pipeline_passes_rasa_s_graph_validation():
    # `rasa train` validates every component's signature and type annotations; the patched
    # methods must keep Rasa's (a patch without them failed `python -m bot.rasa_server train`).
    import inspect

    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.config import ROOT

    assert inspect.signature(SpacyEntityExtractor.process).return_annotation != inspect.Signature.empty
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"))
    config = importer.get_config()
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    config, _, _ = recipe.auto_configure(importer.get_config_file_for_auto_config(), config, TrainingType.BOTH)
    validation.validate(recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH))
