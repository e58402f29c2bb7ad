"""The validated REST channel: clear 400s for bad bodies, over-long text cut before the NLU."""
import asyncio
from types import SimpleNamespace

import pytest
from sanic.exceptions import InvalidUsage

from bot.channels.rest import ValidatedRestInput
from bot.config import load_settings

CHANNEL = ValidatedRestInput()


def req(body):
    return SimpleNamespace(json=body)


@pytest.mark.parametrize("body", [[], 42, "x", {"message": "a"}, {"sender": "", "message": "a"},
                                  {"sender": 5, "message": "a"}, {"sender": "s" * 500, "message": "a"}])
def test_bad_sender_or_body_is_a_400(body):
    with pytest.raises(InvalidUsage) as refused:
        asyncio.run(CHANNEL._extract_sender(req(body)))
    # The French explanation from domain.yml, its placeholder filled in.
    assert str(refused.value).startswith(("Le corps de la requête", "Le champ « sender »"))
    assert "{" not in str(refused.value).replace('{ "sender"', "")


def test_message_must_be_text_and_is_capped():
    with pytest.raises(InvalidUsage):
        CHANNEL._extract_message(req({"sender": "a", "message": 42}))
    assert CHANNEL._extract_message(req({"sender": "a"})) == ""
    limit = load_settings().max_message_chars
    cut = CHANNEL._extract_message(req({"sender": "a", "message": "mot " * 50_000}))
    assert len(cut.strip()) == limit + 1
    assert CHANNEL._extract_message(req({"sender": "a", "message": "bonjour"})) == "bonjour"
    assert asyncio.run(CHANNEL._extract_sender(req({"sender": "visiteur-1", "message": "x"}))) == "visiteur-1"
