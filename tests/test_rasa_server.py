"""The Rasa server entry point's speed fixes change no output (bot/rasa_server.py)."""
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


def test_sqlite_tracker_store_uses_wal_on_one_connection(tmp_path):
    import rasa.core.tracker_store as stores
    from sqlalchemy import text
    from sqlalchemy.pool import SingletonThreadPool
    store = stores.SQLTrackerStore(host=f"sqlite:///{tmp_path / 'tracker.db'}")
    assert isinstance(store.engine.pool, SingletonThreadPool)
    with store.session_scope() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


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
