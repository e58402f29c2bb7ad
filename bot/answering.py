"""Choose what to answer: the dialogue policy of the assistant, free of Rasa types.

Input: the message, its NLU result (intent ranking, entities) and the conversation state
(formation, parcours, last topic and question, pending clarification). Output: a `Decision`
the action turns into messages and slot events. Pure, so tests drive it directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from bot.kb.model import GENERAL, Entry, KnowledgeBase
from bot.kb.search import keyword_hits
from bot.text import FILLER, content_tokens, fold, tokens

TOPIC_PREFIX = "ask_"
# Ranking: score = topic prior + SIM_WEIGHT x word similarity (+ bonuses). The constants were
# tuned on tests/eval with the project's model; see `make eval`.
MAIN_PRIOR = 0.5       # the predicted topic always counts at least this much
RELATED_PRIOR = 0.25   # topics declared related to it
MIN_PRIOR = 0.15       # an unrelated topic's entries count only when this likely ...
SIM_STRONG = 0.45      # ... unless its words match the question this well
SIM_OFF_TOPIC = 0.7    # when the formation has nothing on the topic at all
SIM_WEIGHT = 4.0       # how much the words count against the classifier's topic
PARCOURS_BONUS = 0.4
OTHER_PARCOURS_PENALTY = 0.15
CODE_BONUS = 0.4       # entries holding a code of the question ("S5", "420", "UF1.3")
SECOND_ANSWER_MARGIN = 0.3  # two entries this close are both given
# Low confidence and clarification.
LOW_TOPIC_CONF = 0.25  # under the fallback threshold, a topic this likely still guides search
MIN_ANSWER_SIM = 0.05  # an off-topic answer sharing almost no words with the question is not given
SEARCH_ANSWER = 0.3    # fallback search: answer directly from this similarity
SEARCH_SUGGEST = 0.18  # fallback search: offer "did you mean" buttons from this similarity
FOLLOW_UP_WORDS = 4    # a fallback message this short continues the current subject
OOS_CONF = 0.6         # "out of scope" below this confidence may be overruled ...
OOS_RUNNER_UP = 0.2    # ... by a question topic at least this likely
CLEAR_MATCH = 0.7      # ... or by an entry this similar: a staff entry added since the last training
DISTINCTIVE_MAX_ENTRIES = 4  # a word in more entries than this says nothing about the formation
COMPARISON_SIM = 0.2   # several formations named: a comparison entry this similar answers
MAX_FORMATIONS = 3
PARCOURS_TOPICS = {"definition", "programme", "competences", "debouches", "metier", "parcours"}
SITE_TOPICS = {"lieu", "frais", "resultats", "admission", "evaluation"}  # facts true of one site only
KNOWN_PLACES = frozenset({"france", "europe", "etat", "hexagone"})
QUANTITY_MARGIN = 0.5  # how far below the best entry one with a figure may rank
_RATE = re.compile(r"\bpar (an|annee|mois|semaine|jour)\b")
_QUANTITY_ASKED = {"combien", "cb", "cmb", "combiens"}
_QUANTITY_WORDS = {"deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "douze",
                   "vingt", "vingtaine", "trente", "cent", "mille", "demi", "moitie", "maximum"}


@dataclass
class State:
    formation: Optional[str] = None
    parcours: Optional[str] = None
    topic: Optional[str] = None
    question: Optional[str] = None
    pending: bool = False


@dataclass
class Turn:
    text: str
    intent: Optional[str]
    ranking: dict[str, float] = field(default_factory=dict)
    formations: list[str] = field(default_factory=list)
    parcours: Optional[str] = None
    kb_id: Optional[str] = None
    # The message without the formation and parcours names: what is compared with entries.
    query: Optional[str] = None
    # True when the message does nothing but name a formation ("le DEIS", "et pour le master ?").
    names_only: bool = False
    # A formation the assistant does not cover is named ("le BUT informatique").
    other_formation: bool = False
    # A formation is named by one of its aliases, not only hinted at ("Rennes", "IUT").
    sure_formation: bool = False
    # Places named in the message (spaCy LOC entities).
    places: list[str] = field(default_factory=list)


@dataclass
class Decision:
    kind: str  # answer | clarify | no_info | suggest | dont_know | decline | other_formation
    entries: list[Entry] = field(default_factory=list)
    no_info: list[str] = field(default_factory=list)
    topic: Optional[str] = None
    formation: Optional[str] = None
    parcours: Optional[str] = None
    question: Optional[str] = None
    scores: list[tuple[str, float]] = field(default_factory=list)
    # For staff (`faq-try`): the best entries before any filter, as (id, score); not used to decide.
    candidates: list[tuple[str, float]] = field(default_factory=list)
    searched: bool = False  # ranked by the all-entries search (no usable topic)


def topic_of(intent: Optional[str]) -> Optional[str]:
    return intent[len(TOPIC_PREFIX):] if intent and intent.startswith(TOPIC_PREFIX) else None


class Answerer:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def decide(self, turn: Turn, state: State) -> Decision:
        kb = self.kb
        if turn.kb_id and kb.get(turn.kb_id):
            e = kb.get(turn.kb_id)
            return Decision("answer", [e], topic=e.topic, formation=self._slot_formation(e, state),
                            parcours=e.parcours or state.parcours, question=e.title)
        formations = [f for f in turn.formations if f in kb.formations]
        if turn.parcours in kb.parcours and not formations:
            formations = ["but_cs"]  # parcours exist only in the BUT
        current = formations[0] if formations else state.formation
        same_formation = not formations or formations[0] == state.formation
        parcours = turn.parcours if turn.parcours in kb.parcours else (
            state.parcours if current == "but_cs" and same_formation else None)

        ranking = {k: v for k, v in turn.ranking.items() if k != "nlu_fallback"}
        intent = turn.intent
        if (formations or turn.parcours) and turn.names_only and intent not in ("greet",):
            intent = "inform_formation"
        topic = topic_of(intent)
        text = turn.query if turn.query is not None else turn.text
        if intent == "out_of_scope":
            runner_up = max(((k, v) for k, v in ranking.items() if topic_of(k)), key=lambda kv: kv[1],
                            default=(None, 0.0))
            if ranking.get("out_of_scope", 1.0) >= OOS_CONF or runner_up[1] < OOS_RUNNER_UP \
                    or not turn.sure_formation:
                # The classifier has not learnt entries added since its training; a near-verbatim
                # match of one of their questions is answered rather than refused.
                found = self.kb.ranker.search(text, allowed=self._allowed(formations), limit=1)
                if found and found[0][1] >= CLEAR_MATCH:
                    return self._search(text, formations, state)
                return Decision("decline", formation=current, parcours=parcours)
            intent, topic = runner_up[0], topic_of(runner_up[0])  # a hesitant "out of scope"
        if turn.other_formation and not formations and not turn.parcours:
            return Decision("other_formation", formation=state.formation, parcours=state.parcours)
        priors = {topic_of(k): v for k, v in ranking.items() if topic_of(k)}
        if intent == "nlu_fallback":
            best = max(ranking.items(), key=lambda kv: kv[1], default=(None, 0.0))
            if topic_of(best[0]) and best[1] >= LOW_TOPIC_CONF:
                topic = topic_of(best[0])
            elif state.topic and len(content_tokens(text)) <= FOLLOW_UP_WORDS:
                # "et le jeudi aprem ?": an elliptical follow-up stays on the current subject.
                topic, priors = state.topic, {state.topic: MAIN_PRIOR}
        elif intent == "inform_formation" or (topic is None and formations and turn.names_only):
            if state.topic and state.question:
                topic, text, priors = state.topic, state.question, {state.topic: 1.0}
            else:
                topic, priors = "definition", {"definition": 1.0}

        if topic is None or topic not in kb.topics:
            return self._search(text, formations, state)
        if not formations and state.formation:
            formations = [state.formation]
        if not formations:
            formations = self._infer_formations(topic, text)
            if not formations:
                return Decision("clarify", topic=topic, question=text, parcours=parcours)
        decision = self._answer(topic, text, priors, formations[:MAX_FORMATIONS], parcours)
        if decision.kind == "answer" and self._unknown_places(turn.places) and \
                any(e.topic in SITE_TOPICS for e in decision.entries):
            # The documents describe one site per formation; another town's facts are unknown.
            decision.no_info = [e.formation for e in decision.entries if e.formation != GENERAL] or formations
            decision.kind, decision.entries = "no_info", []
        return decision

    def _unknown_places(self, places: list[str]) -> list[str]:
        vocab = self.kb.vocabulary | KNOWN_PLACES
        return [p for p in places if p[:1].isupper() and not any(c.isdigit() for c in p)
                and not set(tokens(p)) & vocab]

    def _slot_formation(self, e: Entry, state: State) -> Optional[str]:
        return e.formation if e.formation != GENERAL else state.formation

    def _infer_formations(self, topic: str, text: str) -> list[str]:
        hits = {e.formation for e in keyword_hits(self.kb.entries, text)}
        if len(hits) == 1:
            return list(hits)
        distinctive = self._distinctive_formations(topic, text)
        if len(distinctive) == 1:
            return list(distinctive)
        if not self.kb.topics[topic].needs_formation:
            forms = self.kb.formations_with_topic(topic)
            if len(forms) == 1:
                return forms
            if forms:
                sims = self.kb.ranker.scores(text)
                best = max((i for i, e in enumerate(self.kb.entries) if e.topic == topic),
                           key=lambda i: sims[i])
                return [self.kb.entries[best].formation]
        return []

    def _distinctive_formations(self, topic: str, text: str) -> set[str]:
        """Formations pointed at by rare words of the question ("S3", "420 h", "mardi").

        Words of the topic itself ("coûte" for fees) do not count: they would make every
        vague question look like one about the only formation the documents detail.
        """
        from bot.vocabulary import intent_words
        topic_vocab = intent_words(f"{TOPIC_PREFIX}{topic}")
        found: set[str] = set()
        for word in set(content_tokens(text)) - FILLER - topic_vocab:
            owners = self.kb.entries_by_word.get(word, ())
            limit = DISTINCTIVE_MAX_ENTRIES * (2 if any(c.isdigit() for c in word) else 1)
            if 0 < len(owners) <= limit:
                forms = {e.formation for e in owners} - {GENERAL}
                if len(forms) == 1:
                    found |= forms
                elif forms:
                    return set()
        return found

    @staticmethod
    def _asks_quantity(text: str) -> bool:
        return bool(_QUANTITY_ASKED & set(tokens(text)))

    @staticmethod
    def _has_quantity(entry: Entry) -> bool:
        words = set(tokens(entry.answer))  # ordinals such as "1re", "S1" are not quantities
        return bool(words & _QUANTITY_WORDS or any(w.isdigit() for w in words) or _RATE.search(fold(entry.answer)))

    def _priors(self, topic: str, priors: dict[str, float], parcours: Optional[str]) -> dict[str, float]:
        out = dict(priors)
        out[topic] = max(out.get(topic, 0.0), MAIN_PRIOR)
        for r in self.kb.topics[topic].related:
            out[r] = max(out.get(r, 0.0), RELATED_PRIOR)
        if parcours and topic in PARCOURS_TOPICS:
            # "et le VTD, ça mène à quoi ?": the parcours' own entry is about exactly that.
            out["parcours"] = max(out.get("parcours", 0.0), MAIN_PRIOR)
        return out

    def _rank(self, formation: str, topic: str, priors: dict[str, float], sims: np.ndarray,
              parcours: Optional[str]) -> list[tuple[Entry, float, float]]:
        ranked = []
        for i, e in enumerate(self.kb.entries):
            if e.formation != formation:
                continue
            prior, sim = priors.get(e.topic, 0.0), float(sims[i])
            if prior < MIN_PRIOR and sim < SIM_STRONG:
                continue
            score = prior + SIM_WEIGHT * sim
            if e.parcours and parcours:
                if e.parcours != parcours:
                    continue
                score += PARCOURS_BONUS
            elif e.parcours:
                score -= OTHER_PARCOURS_PENALTY
            ranked.append((e, score, sim))
        return sorted(ranked, key=lambda r: -r[1])

    def _answer(self, topic: str, text: str, priors: dict[str, float], formations: list[str],
                parcours: Optional[str]) -> Decision:
        priors = self._priors(topic, priors, parcours)
        sims = self.kb.ranker.scores(text)
        codes = {w for w in tokens(text) if any(c.isdigit() for c in w)}
        coded = {e.id for c in codes for e in self.kb.entries_by_word.get(c, ())}
        for i, e in enumerate(self.kb.entries):
            if e.id in coded:
                sims[i] += CODE_BONUS / SIM_WEIGHT
        if len(formations) > 1:
            # Several formations named: a comparison entry answers better than one per formation.
            general = sorted(((e, priors.get(e.topic, 0.0) + SIM_WEIGHT * sims[i], sims[i])
                              for i, e in enumerate(self.kb.entries) if e.formation == GENERAL),
                             key=lambda r: -r[1])
            if general and (general[0][0].topic == topic or general[0][2] >= COMPARISON_SIM):
                formations = [GENERAL]
        entries, missing, scores, candidates = [], [], [], []
        wanted = {topic, *self.kb.topics[topic].related}
        for f in formations:
            ranked = self._rank(f, topic, priors, sims, parcours if f == "but_cs" else None)
            candidates += [(e.id, round(sc, 3)) for e, sc, _ in ranked[:5]]
            if f == "but_cs" and parcours and topic in PARCOURS_TOPICS:
                # A named parcours: its own entry answers "what, which jobs, which content".
                ranked = [r for r in ranked if r[0].parcours == parcours] or ranked
            if ranked and not any(e.formation == f and e.topic in wanted for e in self.kb.entries):
                # Nothing on this subject for this formation: only a near-verbatim match may answer.
                ranked = [r for r in ranked if r[2] >= SIM_OFF_TOPIC]
            if ranked and self._asks_quantity(text):
                # "Combien…?": only an entry that gives a figure can answer it.
                best = ranked[0][1]
                ranked = [r for r in ranked if self._has_quantity(r[0]) and best - r[1] < QUANTITY_MARGIN]
            scores += [(e.id, round(s, 3)) for e, s, _ in ranked[:3]]
            if ranked and (ranked[0][0].topic == topic or ranked[0][2] >= MIN_ANSWER_SIM):
                entries.append(ranked[0][0])
                if len(formations) == 1 and len(ranked) > 1 and ranked[0][1] - ranked[1][1] < SECOND_ANSWER_MARGIN:
                    entries.append(ranked[1][0])  # too close to call: both short answers help more than a guess
            else:
                missing.append(f)
        kind = "answer" if entries else "no_info"
        last = next((f for f in reversed(formations) if f != GENERAL), None)
        return Decision(kind, entries, missing, topic=topic, formation=last,
                        parcours=parcours, question=text, scores=scores, candidates=candidates)

    def _allowed(self, formations: list[str]) -> Optional[list[str]]:
        if not formations:
            return None
        return [e.id for e in self.kb.entries if e.formation in formations or e.formation == GENERAL]

    def _search(self, text: str, formations: list[str], state: State) -> Decision:
        allowed = self._allowed(formations)
        ranked = self.kb.ranker.search(text, allowed=allowed, limit=5)
        candidates = [(e.id, round(s, 3)) for e, s in ranked]
        found = ranked[:3]
        scores = [(e.id, round(s, 3)) for e, s in found]
        formation = formations[0] if formations else state.formation
        if found and found[0][1] >= SEARCH_ANSWER:
            e = found[0][0]
            return Decision("answer", [e], topic=e.topic, formation=self._slot_formation(e, state),
                            question=text, scores=scores, candidates=candidates, searched=True)
        options = [e for e, s in found if s >= SEARCH_SUGGEST]
        if options:
            return Decision("suggest", options, formation=formation, scores=scores, candidates=candidates,
                            searched=True)
        return Decision("dont_know", formation=formation, scores=scores, candidates=candidates, searched=True)
