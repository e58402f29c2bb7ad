"""The conversation's slots, named once: the domain declares them, the action reads and sets them.

`tests/test_consistency.py` checks that `domain.yml` declares exactly these slots.
"""
from __future__ import annotations

FORMATION = "formation"  # the formation being talked about (an id of knowledge/formations.yml)
PARCOURS = "parcours"  # the BUT parcours being talked about
TOPIC = "topic"  # the topic of the last question
QUESTION = "question"  # the last question, kept while the assistant asks which formation
PENDING = "pending"  # True while that clarification is unanswered
PROFILE = "profile"  # what the visitor said about themselves (bot.eligibility.read_profile)
ANSWERED = "answered"  # ids of the entries of the last knowledge answer ("plus de détails ?")

ALL = (FORMATION, PARCOURS, TOPIC, QUESTION, PENDING, PROFILE, ANSWERED)
