"""The entry model (bot.kb.retriever): trained on the entries' questions and answer lines."""
import dataclasses

import numpy as np

from bot.kb.retriever import EntryModel, training_examples


def test_examples_are_questions_titles_and_answer_lines(tiny_kb):
    texts, owners = training_examples(tiny_kb.entries, str)
    first = [t for t, o in zip(texts, owners) if o == 0]
    assert "combien de temps dure le BUT ?" in first and "Le BUT dure 3 ans, six semestres." in first


def test_ranks_the_entry_whose_questions_or_lines_match(tiny_kb):
    model = EntryModel(tiny_kb.entries)
    ids = [e.id for e in tiny_kb.entries]
    for question, expected in [("combien de pages pour le CV ?", "deis.admission.cv"),
                               ("une remise si je finance moi-même ?", "deis.frais.remise"),
                               ("rgpd ça veut dire quoi", "but_cs.glossaire.rgpd")]:
        p = model.proba(question)
        assert abs(p.sum() - 1) < 1e-9 and ids[int(np.argmax(p))] == expected


def test_provisional_model_scores_a_newer_base_by_id(tiny_kb):
    model = EntryModel(tiny_kb.entries)
    new = dataclasses.replace(tiny_kb.entries[0], id="but_cs.duree.nouvelle")
    entries = (new, *reversed(tiny_kb.entries))
    p = model.proba_for("combien de pages pour le CV ?", entries)
    assert p[0] == 0.0 and entries[int(np.argmax(p))].id == "deis.admission.cv"
