"""Choose what to answer: the dialogue policy of the assistant, free of Rasa types.

Input: the message, its NLU result (intent ranking, entities) and the conversation state
(formation, parcours, last topic and question, pending clarification). Output: a `Decision`
that `bot.replies` turns into messages. Pure (no disk, no network), so tests drive it directly.

`Answerer.decide` first reads the NLU's result with the linear models (`second_opinion`,
bot.nlu_models): DIET's topic probabilities averaged with the topic model's, and the one refusal
rule: a message whose in-domain score is under `IN_DOMAIN_MIN` is out of scope, one above it a
question, whatever DIET's intent. Then these steps run in order; the first that decides ends the turn:
0. `_detail_asked`     "plus de détails", or the "Voir le détail" button: the full answer of
                       the entries last given (or of the entry the button names);
1. `_chosen_entry`     a "Vouliez-vous dire…" button names the entry;
2. courtesy            thanks, greetings, goodbyes only: their fixed reply (rules.yml), never facts;
3. `_profile_question` the visitor's profile (bot.eligibility): "can I apply to the DEIS?" …;
4. `origin_destination` "après le BUT, le DEIS ?": the origin's further studies and the
                       destination's admission conditions;
5. `_off_topic`        out of scope: decline, unless the message is a short follow-up ("et de
                       théorie ?") or word for word an example question of an entry
                       (`_listed_question`); a covered formation named for sure gets "not in
                       my documents" instead;
6. other formation     a formation the assistant does not cover is named alone (with what a
                       source says of it, bot.other_mentions);
7. `_topic`            the topic asked (the NLU's, the pending one for "et pour le master ?",
                       the current one for a short follow-up), or a search over all entries;
8. `_formations`       named, remembered, or implied (bot.ranking); else ask which one;
9. `_answer`           rank each formation's entries (bot.ranking) holding the asked type of value
                       (a price…), else "not in my documents", also for `_silent_formations`;
10. `_site_only`       site facts (fees, results, address) asked for another town: not known.
"""
from __future__ import annotations

from typing import Mapping, Optional

from bot.eligibility import asks_dispenses, asks_eligibility, assess_access, assess_dispenses, describe, read_profile
from bot.kb.model import GENERAL, Entry, KnowledgeBase
from bot.nlu_models import DomainModel, TopicModel, second_opinion
from bot.origin_destination import origin_destination
from bot.policy_types import AWAITING, Decision, State, Turn
from bot.ranking import EntryRanker, formations_by_words, keep_typed
from bot.text import content_tokens, tokens

TOPIC_PREFIX = "ask_"
SECOND_ANSWER_MARGIN = 0.4  # two entries this close are both given
LOW_TOPIC_CONF = 0.25  # under the fallback threshold, a topic this likely still guides search
MIN_ANSWER_SIM = 0.05  # an off-topic answer sharing almost no words with the question is not given
SEARCH_ANSWER = 0.3    # fallback search: answer directly from this similarity
SEARCH_SUGGEST = 0.18  # fallback search: offer "did you mean" buttons from this similarity
FOLLOW_UP_WORDS = 4    # a fallback message this short continues the current subject
CLEAR_MATCH = 0.7      # out of scope, but an entry this similar: a staff entry added since the last training
SIM_OFF_TOPIC = 0.7    # when the formation has nothing on the topic at all
COMPARISON_SIM = 0.2   # several formations named: a comparison entry this similar answers
MAX_FORMATIONS = 3
NAMED_TOPIC_CONF = 0.9  # a message that is only a name keeps a topic the NLU is this sure of
DETAIL_INTENT = "ask_detail"  # "plus de détails", "tu peux développer ?"
NO_DETAIL = "utter_no_detail"  # asked for details before any answer


def topic_of(intent: Optional[str]) -> Optional[str]:
    return intent[len(TOPIC_PREFIX):] if intent and intent.startswith(TOPIC_PREFIX) else None


class Answerer:
    """The policy over one knowledge base. `topic_words` (each topic's own words in the NLU
    training data) and the linear models (bot.nlu_models) come from bot.lexicon, read and
    trained by the caller: the policy reads no file."""

    def __init__(self, kb: KnowledgeBase, topic_words: Optional[Mapping[str, frozenset[str]]] = None,
                 topic_model: Optional[TopicModel] = None, domain_model: Optional[DomainModel] = None):
        self.kb = kb
        self.rules = kb.rules
        self.topic_words = topic_words or {}
        self.topic_model = topic_model
        self.domain_model = domain_model

    def decide(self, turn: Turn, state: State) -> Decision:
        kb = self.kb
        turn = second_opinion(turn, self.topic_model, self.domain_model)
        detail = self._detail_asked(turn, state)
        if detail:
            return detail
        chosen = self._chosen_entry(turn, state)
        if chosen:
            return chosen
        courtesy = None if turn.formations or turn.parcours else self.rules.courtesy_reply(turn.text)
        if courtesy:
            return Decision("courtesy", text=courtesy, formation=state.formation, parcours=state.parcours)
        formations = [f for f in turn.formations if f in kb.formations]
        if turn.parcours in kb.parcours and not formations and self.rules.parcours_formation:
            formations = [self.rules.parcours_formation]  # parcours exist only in one formation
        current = formations[0] if formations else state.formation
        same_formation = not formations or formations[0] == state.formation
        parcours = turn.parcours if turn.parcours in kb.parcours else (
            state.parcours if current == self.rules.parcours_formation and same_formation else None)
        profile = self._read_profile(turn, state)
        assessed = self._profile_question(turn, state, profile, formations)
        if assessed:
            return assessed
        decision = self._knowledge(turn, state, formations, current, parcours)
        if profile != state.profile:
            decision.profile = profile
        return decision

    def _knowledge(self, turn: Turn, state: State, formations: list[str], current: Optional[str],
                   parcours: Optional[str]) -> Decision:
        kb = self.kb
        text = words = self._words_compared(turn)
        ranker = EntryRanker(kb, text)
        origin = origin_destination(kb, turn, ranker)
        if origin:
            return origin
        ranking = {k: v for k, v in turn.ranking.items() if k != "nlu_fallback"}
        intent = turn.intent
        if (formations or turn.parcours) and turn.names_only and intent not in ("greet",) \
                and not self._names_a_topic(turn, state):
            intent = "inform_formation"
        if intent == "out_of_scope":
            intent = self._off_topic(turn, state)
            if intent is None:
                listed = self._listed_question(turn, state, formations)
                if listed:
                    return listed
                found = self._search(text, formations, state, ranker)
                if found.kind == "answer" and found.scores and found.scores[0][1] >= CLEAR_MATCH:
                    return found
                uncovered = self._uncovered(turn, state, formations)
                if uncovered:
                    return uncovered
                if turn.sure_formation and formations:
                    # "les langues étrangères pour le BUT CS ?": about a formation covered, but not
                    # in its documents: say so and where to ask, rather than "not my subject".
                    return Decision("no_info", no_info=formations[:1], formation=formations[0], parcours=parcours)
                return Decision("decline", formation=current, parcours=parcours)
        uncovered = self._uncovered(turn, state, formations)
        if uncovered:
            return uncovered
        topic, text, priors = self._topic(intent, ranking, turn, state, text, formations)
        if text != ranker.text:
            ranker = EntryRanker(kb, text)
        if topic is None or topic not in kb.topics:
            return self._search(text, formations, state, ranker)
        named_or_known = bool(formations or state.formation)
        formations = self._formations(formations, state, topic, text, priors, ranker)
        if not formations:
            return Decision("clarify", topic=topic, question=text, parcours=parcours)
        silent = [] if named_or_known else self._silent_formations(topic, formations)
        carried_over = text != words  # "et en BUT ?" asks the last question again
        decision = self._answer(topic, text, priors, formations[:MAX_FORMATIONS], parcours, ranker,
                                units=not carried_over)
        if silent and decision.kind == "answer":
            # "combien ça coûte ?": only one formation's documents give costs; say so for the others.
            decision.no_info += [f for f in silent if f not in decision.no_info]
        return self._site_only(decision, turn, formations)

    # -- steps ------------------------------------------------------------------------------

    def _detail_asked(self, turn: Turn, state: State) -> Optional[Decision]:
        """The full answer of the entry the "Voir le détail" button names, or of the entries last
        given when the visitor writes "plus de détails" without naming a formation."""
        if turn.intent != DETAIL_INTENT or turn.formations or turn.parcours:
            return None
        ids = [turn.kb_id] if turn.kb_id else state.answered
        entries = [e for e in (self.kb.get(i) for i in ids) if e is not None]
        if not entries:
            return Decision("courtesy", text=NO_DETAIL, formation=state.formation, parcours=state.parcours)
        return Decision("answer", entries, topic=entries[0].topic, formation=state.formation,
                        parcours=state.parcours, question=state.question, confidence=1.0, detail=True)

    def _uncovered(self, turn: Turn, state: State, formations: list[str]) -> Optional[Decision]:
        """A formation the assistant does not cover is named alone (its message in `question`,
        where bot.replies finds what a source says of it)."""
        if turn.other_formation and not formations and not turn.parcours:
            return Decision("other_formation", formation=state.formation, parcours=state.parcours,
                            question=turn.text)
        return None

    def _chosen_entry(self, turn: Turn, state: State) -> Optional[Decision]:
        e = self.kb.get(turn.kb_id) if turn.kb_id else None
        if e is None:
            return None
        return Decision("answer", [e], topic=e.topic, formation=self._slot_formation(e, state),
                        parcours=e.parcours or state.parcours, question=e.title, confidence=1.0)

    def _listed_question(self, turn: Turn, state: State, formations: list[str]) -> Optional[Decision]:
        """The message is word for word an example question of one entry (staff added it, e.g.
        from the unanswered questions, since the last training), about the formation asked."""
        found = self.kb.entries_by_question.get(" ".join(tokens(turn.text)), [])
        wanted = formations[:1] or ([state.formation] if state.formation else [])
        found = [e for e in found if e.formation == GENERAL or (wanted and e.formation == wanted[0])]
        if len(found) != 1:
            return None
        e = found[0]
        return Decision("answer", [e], topic=e.topic, formation=self._slot_formation(e, state),
                        parcours=e.parcours or state.parcours, question=turn.text, confidence=1.0)

    def _read_profile(self, turn: Turn, state: State) -> dict:
        rules = self.kb.eligibility
        if rules is None:
            return state.profile
        known = {k: v for k, v in state.profile.items() if k != AWAITING}
        return read_profile(rules, turn.text, known, expecting_years=state.profile.get(AWAITING) == "experience")

    def _profile_question(self, turn: Turn, state: State, profile: dict,
                          formations: list[str]) -> Optional[Decision]:
        """"Can I apply to the DEIS?", "am I dispensed?" with a known profile; a profile answer
        to the item asked for; or a profile stated alone ("je suis infirmière")."""
        rules = self.kb.eligibility
        if rules is None:
            return None
        deis = "deis" in formations or (not formations and state.formation == "deis")
        facts = {k: v for k, v in profile.items() if k not in (AWAITING, "experience_social")}
        if not formations and not state.formation and "experience" in facts and asks_eligibility(rules, turn.text):
            deis = True  # years of experience are a condition of the DEIS only, in the documents
        told = profile != {k: v for k, v in state.profile.items() if k != AWAITING}
        awaited = bool(state.profile.get(AWAITING)) and told
        dispenses = asks_dispenses(rules, turn.text)  # dispenses exist for the DEIS only
        if not facts or not (deis or awaited or (not formations and (told or dispenses))):
            return None
        if dispenses and (deis or not formations):
            result = assess_dispenses(rules, profile)
        elif (asks_eligibility(rules, turn.text) and deis) or awaited:
            result = assess_access(rules, profile)
        elif told and not formations and "?" not in turn.text:
            return Decision("profile_noted", text=rules.messages["noted"].format(profile=describe(rules, profile)),
                            formation=state.formation, profile=profile)
        else:
            return None
        entry = self.kb.get(result.entry_id)
        if result.kind == "ask" or entry is None:
            awaiting = "diploma" if result.text == rules.messages["ask_diploma"] else "experience"
            return Decision("ask_profile", text=result.text, formation="deis", topic="prerequis",
                            profile={**profile, AWAITING: awaiting})
        return Decision("assessment", [entry], topic=entry.topic, formation="deis", question=turn.text,
                        text=result.text, profile=profile, confidence=1.0)

    def _words_compared(self, turn: Turn) -> str:
        """The question without the formation's name, unless the name is what is asked about."""
        query = turn.query if turn.query is not None else turn.text
        asks_meaning = set(tokens(turn.text)) & self.rules.meaning_words
        if asks_meaning and len(content_tokens(query)) <= 3 and not turn.names_only:
            if turn.parcours and turn.formations:
                # "VTD en BUT CS, ça veut dire quoi ?": the parcours is asked, not "CS".
                return f"{self.kb.parcours[turn.parcours].aliases[0]} {query}"
            return turn.text  # "Que signifie DEIS ?", "VTD ça veut dire quoi ?"
        return query

    def _off_topic(self, turn: Turn, state: State) -> Optional[str]:
        """The intent to use for a message read as out of scope, or None to decline."""
        if state.topic and self.rules.is_follow_up(turn.text):
            return "nlu_fallback"  # "et de théorie ?": the current subject goes on
        return None

    def _topic(self, intent: Optional[str], ranking: dict[str, float], turn: Turn, state: State,
               text: str, formations: list[str]) -> tuple[Optional[str], str, dict[str, float]]:
        """(topic, words to compare, topic priors) for this turn."""
        topic = topic_of(intent)
        priors = {topic_of(k): v for k, v in ranking.items() if topic_of(k)}
        if intent == "nlu_fallback":
            best = max(ranking.items(), key=lambda kv: kv[1], default=(None, 0.0))
            if topic_of(best[0]) and best[1] >= LOW_TOPIC_CONF:
                topic = topic_of(best[0])
            elif state.topic and len(content_tokens(text)) <= FOLLOW_UP_WORDS:
                # "et le jeudi aprem ?": an elliptical follow-up stays on the current subject.
                topic, priors = state.topic, {state.topic: 0.5}
        elif intent == "inform_formation" or (topic is None and formations and turn.names_only):
            if state.topic and state.question:
                topic, text, priors = state.topic, state.question, {state.topic: 1.0}
            else:
                topic, priors = "definition", {"definition": 1.0}
        return topic, text, priors

    def _formations(self, formations: list[str], state: State, topic: str, text: str,
                    priors: dict[str, float], ranker: EntryRanker) -> list[str]:
        if formations:
            return formations
        if state.formation:
            return [state.formation]
        by_words = formations_by_words(self.kb, topic, text, self.topic_words.get(topic, frozenset()))
        if by_words:
            return by_words
        implied = ranker.implied_formation(ranker.priors(topic, priors, None))
        if implied:
            return [implied]
        if not self.kb.topics[topic].needs_formation:
            forms = self.kb.formations_with_topic(topic)
            if len(forms) == 1:
                return forms
            if forms:
                combined = ranker.combined()
                best = max((i for i, e in enumerate(self.kb.entries) if e.topic == topic),
                           key=lambda i: combined[i])
                return [self.kb.entries[best].formation]
        return []

    def _silent_formations(self, topic: str, formations: list[str]) -> list[str]:
        """Formations not chosen whose documents say nothing at all on the topic."""
        wanted = {topic, *self.kb.topics[topic].related}
        covered = {e.formation for e in self.kb.entries if e.topic in wanted}
        return [f for f in self.kb.formations if f not in formations and f not in covered]

    def _answer(self, topic: str, text: str, priors: dict[str, float], formations: list[str],
                parcours: Optional[str], ranker: EntryRanker, units: bool = True) -> Decision:
        kb = self.kb
        priors = ranker.priors(topic, priors, parcours)
        if len(formations) > 1:
            # Several formations named: a comparison entry answers better than one per formation.
            general = ranker.rank(GENERAL, priors, None)
            if general and (general[0].entry.topic == topic or general[0].similarity >= COMPARISON_SIM):
                formations = [GENERAL]
        entries, missing, scores, candidates = [], [], [], []
        confidence = 0.0
        wanted = {topic, *kb.topics[topic].related}
        for f in formations:
            ranked = ranker.rank(f, priors, parcours if f == self.rules.parcours_formation else None)
            candidates += [(r.entry.id, round(r.score, 3)) for r in ranked[:5]]
            if f == self.rules.parcours_formation and parcours and topic in self.rules.parcours_topics:
                # A named parcours: its own entry answers "what, which jobs, which content".
                ranked = [r for r in ranked if r.entry.parcours == parcours] or ranked
            if ranked and not any(e.formation == f and e.topic in wanted for e in kb.entries):
                # Nothing on this subject for this formation: only a near-verbatim match may answer.
                ranked = [r for r in ranked if r.similarity >= SIM_OFF_TOPIC]
            ranked = keep_typed(kb, ranked, text, units)
            scores += [(r.entry.id, round(r.score, 3)) for r in ranked[:3]]
            if ranked and (ranked[0].entry.topic == topic or ranked[0].similarity >= MIN_ANSWER_SIM):
                entries.append(ranked[0].entry)
                confidence = confidence or ranked[0].probability
                close = len(ranked) > 1 and ranked[0].score - ranked[1].score < SECOND_ANSWER_MARGIN
                if len(formations) == 1 and close:
                    entries.append(ranked[1].entry)  # too close to call: both short answers help more than a guess
            else:
                missing.append(f)
        if formations == [GENERAL] and not entries:
            return Decision("dont_know", topic=topic, question=text, scores=scores, candidates=candidates)
        kind = "answer" if entries else "no_info"
        last = next((f for f in reversed(formations) if f != GENERAL), None)
        return Decision(kind, entries, [f for f in missing if f != GENERAL], topic=topic, formation=last,
                        parcours=parcours, question=text, scores=scores, candidates=candidates,
                        confidence=round(confidence, 3))

    def _site_only(self, decision: Decision, turn: Turn, formations: list[str]) -> Decision:
        if decision.kind == "answer" and self._unknown_places(turn.places) and \
                any(e.topic in self.rules.site_topics for e in decision.entries):
            # The documents describe one site per formation; another town's facts are unknown.
            decision.no_info = [e.formation for e in decision.entries if e.formation != GENERAL] or formations
            decision.kind, decision.entries = "no_info", []
        return decision

    # -- helpers ----------------------------------------------------------------------------

    def _names_a_topic(self, turn: Turn, state: State) -> bool:
        """"C'est quoi un ingénieur social ?": only a name, but the NLU is sure of a topic (the
        job, not the diploma) and no earlier question is waiting to be asked again."""
        return bool(topic_of(turn.intent)) and not state.topic \
            and turn.ranking.get(turn.intent or "", 0.0) >= NAMED_TOPIC_CONF

    def _unknown_places(self, places: list[str]) -> list[str]:
        vocab = self.kb.words | self.rules.known_places
        return [p for p in places if p[:1].isupper() and not any(c.isdigit() for c in p)
                and not set(tokens(p)) & vocab]

    def _slot_formation(self, e: Entry, state: State) -> Optional[str]:
        return e.formation if e.formation != GENERAL else state.formation

    def _search(self, text: str, formations: list[str], state: State, ranker: EntryRanker) -> Decision:
        """No usable topic: the best entries of the named formations (or all) by their words."""
        allowed = set(formations) | {GENERAL} if formations else None
        combined = ranker.combined()
        order = sorted((i for i, e in enumerate(self.kb.entries) if allowed is None or e.formation in allowed),
                       key=lambda i: -combined[i])[:5]
        candidates = [(self.kb.entries[i].id, round(float(ranker.sims[i]), 3)) for i in order]
        found = [(self.kb.entries[i], float(ranker.sims[i]), float(ranker.model[i])) for i in order[:3]]
        scores = [(e.id, round(s, 3)) for e, s, _ in found]
        formation = formations[0] if formations else state.formation
        if found and found[0][1] >= SEARCH_ANSWER:
            e = found[0][0]
            return Decision("answer", [e], topic=e.topic, formation=self._slot_formation(e, state),
                            question=text, scores=scores, candidates=candidates, searched=True,
                            confidence=round(found[0][2], 3))
        options = [e for e, s, _ in found if s >= SEARCH_SUGGEST]
        if options:
            return Decision("suggest", options, formation=formation, scores=scores, candidates=candidates,
                            searched=True)
        return Decision("dont_know", formation=formation, scores=scores, candidates=candidates, searched=True)
