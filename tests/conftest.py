"""Shared fixtures: a tiny knowledge base built in Python, a tracker factory, and the private
stacks (real action server + Rasa on their own ports) the end-to-end modules start."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
import yaml
from rasa_sdk import Tracker

from bot import launcher
from bot import slots as slot_names
from bot.config import ROOT, Settings, load_settings
from bot.eligibility import build_eligibility
from bot.kb import Entry, Formation, KnowledgeBase, Parcours, SourceDoc, SourceRef, Topic
from bot.kb.rules import build_rules


def _entry(eid: str, formation: str, topic: str, answer: str, questions: tuple, **kw) -> Entry:
    return Entry(id=eid, formation=formation, topic=topic, title=kw.pop("title", eid), answer=answer,
                 sources=(SourceRef(kw.pop("doc", "doc-" + formation), "section"),), questions=questions, **kw)


@pytest.fixture
def tiny_kb() -> KnowledgeBase:
    formations = {
        "but_cs": Formation("but_cs", "le BUT Carrières sociales", "BUT Carrières sociales", "l'IUT",
                            ("BUT CS", "BUT", "carrières sociales"), ("IUT",)),
        "master_cmc": Formation("master_cmc", "le master CMC", "Master CMC", "Rennes 2", ("master", "master CMC")),
        "deis": Formation("deis", "le DEIS", "DEIS", "l'établissement", ("DEIS", "ingénierie sociale")),
    }
    parcours = {"vtd": Parcours("vtd", "villes et territoires durables", ("VTD", "villes et territoires durables"))}
    topics = {t: Topic(t, f"label {t}", t not in ("glossaire",), rel)
              for t, rel in [("duree", ()), ("frais", ()), ("admission", ("prerequis",)), ("prerequis", ()),
                             ("parcours", ()), ("glossaire", ()), ("definition", ())]}
    sources = {f"doc-{f}": SourceDoc(f"doc-{f}", f"Titre {f}", f, "prov", "x.txt") for f in formations}
    entries = (
        _entry("but_cs.duree.total", "but_cs", "duree", "Le BUT dure 3 ans, six semestres.",
               ("combien de temps dure le BUT ?", "c'est combien d'années ?")),
        _entry("master_cmc.duree.total", "master_cmc", "duree", "Le master dure 2 ans (120 crédits ECTS).",
               ("le master dure combien de temps ?",)),
        _entry("deis.duree.total", "deis", "duree", "Le DEIS s'étale sur six semestres au maximum.",
               ("combien de temps dure le DEIS ?",)),
        _entry("deis.frais.selection", "deis", "frais", "Les frais de sélection sont de 160 €.",
               ("combien coûtent les frais de sélection ?", "prix de la sélection"), keywords=("frais de sélection",)),
        _entry("deis.frais.remise", "deis", "frais", "Remise de 20 % en cas de financement personnel.",
               ("si je paie moi-même ?", "financement personnel, une remise ?")),
        _entry("deis.admission.cv", "deis", "admission", "Le CV fait huit à dix pages.",
               ("combien de pages pour le CV ?",), keywords=("CV",)),
        _entry("but_cs.admission.parcoursup", "but_cs", "admission", "On candidate en 1re année sur Parcoursup.",
               ("comment candidater au BUT ?", "on postule où ?")),
        _entry("but_cs.parcours.vtd", "but_cs", "parcours", "Le parcours VTD forme au développement local.",
               ("le parcours villes et territoires durables c'est quoi ?",), parcours="vtd"),
        _entry("but_cs.parcours.liste", "but_cs", "parcours", "Cinq parcours : animation, VTD…",
               ("quels sont les parcours ?",)),
        _entry("but_cs.glossaire.rgpd", "but_cs", "glossaire", "RGPD : règlement général sur la protection des données.",
               ("rgpd c'est quoi ?",), keywords=("rgpd",)),
        _entry("general.duree.comparaison", "general", "duree", "BUT 3 ans, master 2 ans, DEIS six semestres.",
               ("lequel est le plus court ?",), doc="doc-deis"),
    )
    return KnowledgeBase(formations, parcours, topics, sources, entries, version="tiny",
                         rules=build_rules(_yaml("rules.yml"), set(_yaml("topics.yml")["topics"]), set(formations), _fail),
                         eligibility=build_eligibility(_yaml("eligibility.yml"), _fail))


def _yaml(name: str):
    return yaml.safe_load((ROOT / "knowledge" / name).read_text(encoding="utf-8"))


def _fail(key: str, **values) -> None:
    raise AssertionError(f"{key}: {values}")


def make_tracker(text: str, intent: Optional[str], confidence: float = 0.95, entities: list | None = None,
                 slots: dict | None = None, ranking: dict | None = None, **extra: Any) -> Tracker:
    ranking = ranking or ({intent: confidence} if intent else {})
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "intent_ranking": [{"name": k, "confidence": v} for k, v in ranking.items()],
              "entities": entities or [], **extra}
    all_slots = dict.fromkeys(slot_names.ALL)
    all_slots.update(slots or {})
    return Tracker("test-user", all_slots, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def tracker_factory():
    return make_tracker


@dataclass
class PrivateStack:
    """A running private stack. `procs` maps "actions" and "rasa" to their processes; a test
    that restarts one puts the new process there, and the fixture stops whatever is there."""
    settings: Settings
    model: Path
    tmp: Path
    log: Any
    files: dict = field(default_factory=dict)
    procs: dict = field(default_factory=dict)


@contextmanager
def _private_stack(tmp: Path, rasa_port: int, action_port: int, credentials: Optional[str] = None,
                   **overrides: Any) -> Iterator[PrivateStack]:
    values = dict(rasa_port=rasa_port, action_port=action_port, run_dir=tmp,
                  tracker_url=f"sqlite:///{tmp / 'tracker.db'}", auth_token=uuid.uuid4().hex)
    values.update(overrides)
    s = replace(load_settings(), **values)
    model = launcher.ensure_trained(s)
    files = {"credentials": credentials} if credentials else {}
    with open(tmp / "servers.log", "a") as log:
        stack = PrivateStack(s, model, tmp, log, files)
        stack.procs["actions"], stack.procs["rasa"] = launcher.start_stack(s, model, s.auth_token, log=log, **files)
        try:
            yield stack
        finally:
            launcher.stop(stack.procs.get("rasa"), stack.procs.get("actions"))


@pytest.fixture(scope="session")
def private_stack():
    """`with private_stack(tmp, rasa_port, action_port, **settings) as stack:` starts the real
    action server and Rasa with their own token and SQLite tracker store, and stops them."""
    return _private_stack


@dataclass
class Console:
    """A staff console app on a throw-away SQLite database and a copy of knowledge/."""
    app: Any
    store: Any
    settings: Settings

    def client(self, user: Optional[str] = None, role: str = "redaction"):
        """A test client, logged in as `user` (account created) when given."""
        client = self.app.test_client()
        if user:
            self.store.set_account(user, role, "mot-de-passe-tres-long")
            page = client.get("/connexion")
            token = csrf_token_in(page.get_data(as_text=True))
            reply = client.post("/connexion", data={"username": user, "password": "mot-de-passe-tres-long",
                                                    "csrf_token": token})
            assert reply.status_code == 302, reply.get_data(as_text=True)
        return client


def csrf_token_in(html: str) -> str:
    import re
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@pytest.fixture
def console(tmp_path) -> Console:
    import shutil

    from bot.admin.app import create_app
    from bot.admin.console_store import ConsoleStore
    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    s = replace(load_settings(), run_dir=tmp_path, knowledge_dir=kdir, tracker_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                admin_secret="test-secret")
    store = ConsoleStore(s.tracker_url)
    app = create_app(s, store)
    app.config["TESTING"] = True
    return Console(app, store, s)
