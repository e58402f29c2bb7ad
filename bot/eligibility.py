"""The applicant's profile and the DEIS access rules (`knowledge/eligibility.yml`).

Three pure parts:
1. `build_eligibility`: the file, validated, with its patterns compiled (at knowledge load);
2. `read_profile`: facts a visitor states about themselves in one message (diplomas, level,
   years of experience and whether in social intervention, corps, a foreign diploma), merged
   into what the conversation already knows (kept in the `profile` slot as a plain dict);
3. `assess`: "can I apply?" evaluated condition by condition, and "what is dispensed?", as text
   built from the file's French sentences.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from bot.text import compile_patterns, fold


@dataclass(frozen=True)
class Diploma:
    id: str
    label: str
    patterns: tuple[re.Pattern, ...]
    level: int
    study_years: int = 0
    field: str = "other"
    state: bool = False
    title: str = ""
    level_from: str = "table"


@dataclass(frozen=True)
class Condition:
    id: str
    text: str
    diploma: tuple[dict, ...]  # alternatives; empty: no diploma needed
    corps: bool
    experience: int


@dataclass(frozen=True)
class Eligibility:
    conditions_entry: str
    dispenses_entry: str
    conditions: tuple[Condition, ...]
    dispenses: tuple[dict, ...]
    diplomas: tuple[Diploma, ...]
    level_patterns: tuple[re.Pattern, ...]
    old_levels: dict[str, int]
    first_person: tuple[re.Pattern, ...]
    corps: tuple[re.Pattern, ...]
    experience: tuple[re.Pattern, ...]
    numbers: dict[str, int]
    not_social: tuple[re.Pattern, ...]
    foreign: tuple[re.Pattern, ...]
    asks_eligibility: tuple[re.Pattern, ...]
    asks_dispenses: tuple[re.Pattern, ...]
    messages: dict[str, str] = field(default_factory=dict)

    def diploma(self, ident: str) -> Optional[Diploma]:
        return next((d for d in self.diplomas if d.id == ident), None)


MESSAGE_KEYS = ("eligible", "not_yet", "no_condition", "ask_diploma", "ask_experience", "foreign",
                "table_level", "sources_differ", "dispense", "no_dispense", "noted", "profile_item_experience",
                "profile_item_corps", "profile_item_foreign", "profile_item_level")


def build_eligibility(doc: Any, problem: Callable[..., None]) -> Optional[Eligibility]:
    """The rules from the parsed file; `problem(key, **values)` reports what is wrong."""
    if not isinstance(doc, dict):
        if doc is not None:
            problem("not_mapping")
        return None

    def pats(values: Any, where: str) -> tuple[re.Pattern, ...]:
        return compile_patterns(values, where, problem)

    def section(key: str) -> dict:
        value = doc.get(key)
        return value if isinstance(value, dict) else {}

    deis, levels, exp, asks = section("deis"), section("levels"), section("experience"), section("asks")
    messages = {str(k): str(v) for k, v in _plain(section("messages")).items()}
    for key in MESSAGE_KEYS:
        if key not in messages:
            problem("missing", field=f"messages.{key}")
    conditions = tuple(Condition(str(c.get("id", "")), str(c.get("text", "")),
                                 tuple(_plain(a) for a in c.get("diploma") or ()),
                                 bool(c.get("corps")), int(c.get("experience") or 0))
                       for c in deis.get("conditions") or () if isinstance(c, dict))
    if not conditions:
        problem("missing", field="deis.conditions")
    diplomas = []
    for d in doc.get("diplomas") or ():
        if not isinstance(d, dict) or not d.get("id"):
            problem("missing", field="diplomas.id")
            continue
        diplomas.append(Diploma(str(d["id"]), str(d.get("label", d["id"])),
                                pats(d.get("patterns"), f"diplomas.{d['id']}"),
                                int(d.get("level") or 0), int(d.get("study_years") or 0),
                                str(d.get("field") or "other"), bool(d.get("state")), str(d.get("title") or ""),
                                str(d.get("level_from") or "table")))
    return Eligibility(
        conditions_entry=str(deis.get("conditions_entry") or ""),
        dispenses_entry=str(deis.get("dispenses_entry") or ""),
        conditions=conditions, dispenses=tuple(_plain(x) for x in deis.get("dispenses") or () if isinstance(x, dict)),
        diplomas=tuple(diplomas), level_patterns=pats(levels.get("patterns"), "levels.patterns"),
        old_levels={str(k): int(v) for k, v in _plain(levels.get("old")).items()},
        first_person=pats(doc.get("first_person"), "first_person"),
        corps=pats(section("corps").get("patterns"), "corps.patterns"),
        experience=pats(exp.get("patterns"), "experience.patterns"),
        numbers={str(k): int(v) for k, v in _plain(exp.get("numbers")).items()},
        not_social=pats(exp.get("not_social"), "experience.not_social"),
        foreign=pats(section("foreign").get("patterns"), "foreign.patterns"),
        asks_eligibility=pats(asks.get("eligibility"), "asks.eligibility"),
        asks_dispenses=pats(asks.get("dispenses"), "asks.dispenses"),
        messages=messages)


def _plain(value: Any) -> dict:
    """A mapping without the loader's line bookkeeping keys ("__line__"…)."""
    return {k: v for k, v in value.items() if not str(k).startswith("__")} if isinstance(value, dict) else {}


def _folded(text: str) -> str:
    return fold(text).replace("'", " ")


def _any(patterns: tuple[re.Pattern, ...], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def asks_eligibility(rules: Eligibility, text: str) -> bool:
    return _any(rules.asks_eligibility, _folded(text))


def asks_dispenses(rules: Eligibility, text: str) -> bool:
    return _any(rules.asks_dispenses, _folded(text))


def read_profile(rules: Eligibility, text: str, known: Optional[dict] = None,
                 expecting_years: bool = False) -> dict:
    """The profile after this message: known facts plus the ones stated now (a plain dict)."""
    profile = {k: (list(v) if isinstance(v, list) else v) for k, v in (known or {}).items()}
    t = _folded(text)
    about_self = _any(rules.first_person, t)
    if about_self:
        for d in rules.diplomas:
            if _any(d.patterns, t) and d.id not in profile.setdefault("diplomas", []):
                profile["diplomas"].append(d.id)
        for p in rules.level_patterns:
            m = p.search(t)
            if m:
                raw = m.group(1)
                level = int(raw) if raw.isdigit() else rules.old_levels.get(raw)
                if level:
                    profile["level"] = max(level, profile.get("level") or 0)
        if _any(rules.corps, t):
            profile["corps"] = True
        if profile.get("diplomas") and _any(rules.foreign, t):
            profile["foreign"] = True
    for p in rules.experience:
        m = p.search(t)
        if m:
            raw = m.group(1)
            years = int(raw) if raw.isdigit() else rules.numbers.get(raw)
            if years is not None:
                profile["experience"] = years
                profile["experience_social"] = not _any(rules.not_social, t)
            break
    else:
        m = re.fullmatch(r"\W*(\d+|[a-z]+) ?(ans?|annees?)?\W*", t) if expecting_years else None
        if m and (m.group(1).isdigit() or m.group(1) in rules.numbers):
            profile["experience"] = int(m.group(1)) if m.group(1).isdigit() else rules.numbers[m.group(1)]
            profile["experience_social"] = True
    return {k: v for k, v in profile.items() if v is not None and v != []}


def describe(rules: Eligibility, profile: dict) -> str:
    """The profile in a few French words ("diplôme d'État d'éducateur spécialisé, 4 an(s) d'expérience")."""
    m = rules.messages
    parts = [d.label for d in (rules.diploma(i) for i in profile.get("diplomas", ())) if d]
    if profile.get("level") and not parts:
        parts.append(m["profile_item_level"].format(level=profile["level"]))
    if profile.get("corps"):
        parts.append(m["profile_item_corps"])
    if profile.get("experience") is not None:
        parts.append(m["profile_item_experience"].format(years=profile["experience"]))
    if profile.get("foreign"):
        parts.append(m["profile_item_foreign"])
    return ", ".join(parts)


def _held(rules: Eligibility, profile: dict) -> list[dict]:
    """Each diploma the person holds as {level, study_years, field, state}."""
    held = [{"level": d.level, "study_years": d.study_years, "field": d.field, "state": d.state}
            for d in (rules.diploma(i) for i in profile.get("diplomas", ())) if d]
    if profile.get("level"):
        held.append({"level": profile["level"], "study_years": 0, "field": "other", "state": False})
    return held


def _diploma_ok(condition: Condition, held: list[dict]) -> bool:
    if not condition.diploma:
        return True
    for alt in condition.diploma:
        for h in held:
            if (alt.get("state") is None or h["state"] == bool(alt["state"])) \
                    and (alt.get("field") is None or h["field"] == alt["field"]) \
                    and h["level"] >= int(alt.get("min_level") or 0) \
                    and h["study_years"] >= int(alt.get("min_study_years") or 0):
                return True
    return False


@dataclass
class Assessment:
    kind: str  # eligible | not_yet | no_condition | ask | dispense
    text: str
    entry_id: str


def assess_access(rules: Eligibility, profile: dict) -> Assessment:
    """Evaluate the DEIS access conditions one by one on the profile."""
    m, who = rules.messages, describe(rules, profile)
    held = _held(rules, profile)
    if not held and not profile.get("corps"):
        return Assessment("ask", m["ask_diploma"], rules.conditions_entry)
    years = profile.get("experience") if profile.get("experience_social", True) else 0
    usable = [c for c in rules.conditions if (_diploma_ok(c, held) if not c.corps else profile.get("corps"))]
    met = [c for c in usable if c.experience == 0 or (years is not None and years >= c.experience)]
    notes = []
    if profile.get("foreign"):
        notes.append(m["foreign"])
    table = [d for d in (rules.diploma(i) for i in profile.get("diplomas", ())) if d and d.level_from == "table"]
    if table:
        notes.append(m["table_level"].format(diploma=table[0].label, level=table[0].level))
    notes.append(m["sources_differ"])
    if met:
        return Assessment("eligible", "\n".join([m["eligible"].format(profile=who, condition=met[0].text)] + notes),
                          rules.conditions_entry)
    if usable:
        nearest = min(usable, key=lambda c: c.experience)
        if years is None:
            return Assessment("ask", m["ask_experience"].format(condition=nearest.text, need=nearest.experience),
                              rules.conditions_entry)
        return Assessment("not_yet", "\n".join([m["not_yet"].format(profile=who, condition=nearest.text,
                                                                     need=nearest.experience, have=years)] + notes),
                          rules.conditions_entry)
    text = "\n".join([m["no_condition"].format(profile=who), *notes])
    return Assessment("no_condition", text, rules.conditions_entry)


def assess_dispenses(rules: Eligibility, profile: dict) -> Assessment:
    """Which dispenses or reductions the person's diplomas open."""
    m = rules.messages
    held = [d for d in (rules.diploma(i) for i in profile.get("diplomas", ())) if d]
    if not held and not profile.get("level"):
        return Assessment("ask", m["ask_diploma"], rules.dispenses_entry)
    lines = []
    for d in held:
        rule = next((x for x in rules.dispenses if x.get("title") and x["title"] == d.title), None)
        if rule is None and d.level >= 7:
            rule = next((x for x in rules.dispenses if x.get("min_level") and d.level >= int(x["min_level"])), None)
        if rule:
            lines.append(m["dispense"].format(diploma=d.label, rule=rule["text"]))
    if not lines:
        return Assessment("dispense", m["no_dispense"].format(profile=describe(rules, profile)), rules.dispenses_entry)
    return Assessment("dispense", "\n".join(lines), rules.dispenses_entry)
