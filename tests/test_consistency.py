"""Domain, rules, actions and knowledge agree with each other; Rasa's own validator is clean."""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from actions.reject_input import ISSUES
from bot import slots
from bot.config import ROOT
from bot.kb import load_knowledge_base

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RULES = yaml.safe_load((ROOT / "data" / "rules.yml").read_text())["rules"]


def registered_actions() -> set:
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


def test_every_domain_action_is_implemented():
    assert set(DOMAIN["actions"]) <= registered_actions()


def test_the_domain_declares_exactly_the_slots_the_code_names():
    assert set(DOMAIN["slots"]) == set(slots.ALL)


def test_every_response_used_in_code_exists():
    used = set()
    for path in list((ROOT / "actions").glob("*.py")) + list((ROOT / "bot").rglob("*.py")):
        used |= set(re.findall(r'(?:response=|Reply\()"(utter_\w+)"', path.read_text()))
    used |= {f"utter_input_{i}" for i in ISSUES}
    missing = used - set(DOMAIN["responses"])
    assert not missing and len(used) > 10


def test_every_intent_has_a_rule_and_every_rule_step_exists():
    ruled = {step["intent"] for r in RULES for step in r["steps"] if "intent" in step}
    assert set(DOMAIN["intents"]) - {"nlu_fallback"} <= ruled | set()
    known = set(DOMAIN["actions"]) | set(DOMAIN["responses"])
    assert {s["action"] for r in RULES for s in r["steps"] if "action" in s} <= known


def test_every_topic_is_an_intent_with_training_data():
    kb = load_knowledge_base(ROOT / "knowledge")
    for topic in kb.topics:
        assert f"ask_{topic}" in DOMAIN["intents"]
        assert (ROOT / "data" / "nlu" / f"{topic}.yml").is_file()


def test_rasa_data_validate_has_no_errors():
    # Warnings remain by design: responses sent by custom actions are "not used in any story",
    # and choose_entry / invalid_input are set by buttons and the input guard, not learnt.
    proc = subprocess.run([str(Path(sys.executable).with_name("rasa")), "data", "validate",
                           "--domain", "domain.yml", "--data", "data", "--config", "config.yml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "LOG_LEVEL": "INFO"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    errors = [line for line in out.splitlines() if " ERROR " in line]
    assert not errors and "No story structure conflicts found" in out, errors or out[-3000:]
    allowed = ("is not used in any story or rule", "is not found in the NLU training data",
               "Deprecated API features")
    unexpected = [line for line in out.splitlines() if "UserWarning" in line and not any(a in line for a in allowed)]
    assert not unexpected, unexpected
