"""The event layer: who did what to whom, typed with the PLOVER ontology.

In: a spaCy `Doc` parsed by the pipeline from `nlp.build_nlp` (its entity ruler
tags known actors). Out: a list of `records.Event`, sentence by sentence, the
main event of each sentence first. Nothing here does I/O except reading the two
versioned data files:

    pipeline/data/event_patterns/<version>.json   trigger lexicon (plover-v2)
    pipeline/data/actors/<version>.toml           actor gazetteer (gazetteer-v1)

How an event is found (`EventExtractor.find_triggers`, then `_event`):
1. One spaCy `Matcher` pass over the whole doc finds trigger spans: verb lemmas,
   noun lemmas and multi-word phrases, each listed under a PLOVER type. Where
   spans overlap the longest wins. "Ignore" phrases ("press conference") make
   no event; "statement" phrases (what PLOVER drops: "claimed responsibility",
   "urged", "expressed concern") make none and silence every trigger in their
   dependency subtree. A trigger inside an actor name ("Gulf Cooperation
   Council") or a noun mentioned in passing ("fell after the strikes") is dropped.
2. Verb-object rules, checked on the children of the verbs the same Matcher
   found: "suspended aid" is SANCTION, "released the prisoners" RETREAT,
   whatever the noun alone says.
3. A trigger verb listed as a support verb yields to a trigger noun that is its
   direct object: "struck a deal" is AGREE (trigger "deal"), not FIGHT.
4. Source, target and negation are read off the dependency parse around the
   trigger (`_verb_arguments`, `_noun_arguments`, `_is_negated`); an event
   announced rather than done ("will provide aid", "would retaliate") becomes
   AGREE or THREATEN, as PLOVER codes intentions (`_intended_type`).
5. Within a sentence, events are ordered by the trigger's depth below the
   sentence root, then by position: the first one is the sentence's main event.

The data file's "about" field documents each word list.

Quad classes follow the PLOVER README table (openeventdata/PLOVER):

    verbal_cooperation     AGREE, CONSULT, SUPPORT, CONCEDE
    material_cooperation   COOPERATE, AID, RETREAT, INVESTIGATE
    verbal_conflict        DEMAND, DISAPPROVE, REJECT, THREATEN, SANCTION
    material_conflict      PROTEST, MOBILIZE, COERCE, ASSAULT, FIGHT

(PLOVER's CRIME type is not used here.) Two of these differ from the usual
CAMEO quad classes (as in GDELT), which put INVESTIGATE (09) in verbal conflict
and "reduce relations" (16, PLOVER's SANCTION) in material conflict.
"""

from __future__ import annotations

import json
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from .errors import InputError
from .event_model import DEFAULT_VERSION, CascadeModel, EventTypeModel, load_event_model, read_manifest, sentence_features
from .nlp import ACTOR_LABELS, KIND_TO_LABEL, ActorIndex
from .records import Event
from .scenario import Actor

RULES_VERSION = "plover-v2"  # the trigger lexicon the pipeline uses
DATA_DIR = Path(__file__).parent / "data"
PATTERNS_DIR = DATA_DIR / "event_patterns"
ACTORS_DIR = DATA_DIR / "actors"

QUAD_CLASSES = {
    "verbal_cooperation": ("AGREE", "CONSULT", "SUPPORT", "CONCEDE"),
    "material_cooperation": ("COOPERATE", "AID", "RETREAT", "INVESTIGATE"),
    "verbal_conflict": ("DEMAND", "DISAPPROVE", "REJECT", "THREATEN", "SANCTION"),
    "material_conflict": ("PROTEST", "MOBILIZE", "COERCE", "ASSAULT", "FIGHT"),
}
PLOVER_TYPES = tuple(t for types in QUAD_CLASSES.values() for t in types)
_QUAD_OF = {t: quad for quad, types in QUAD_CLASSES.items() for t in types}

IGNORE = "IGNORE"
STATEMENT = "STATEMENT"
VERB, NOUN, VERB_OBJECT = "VERB", "NOUN", "VERB_OBJECT"
SUBJECT_DEPS = {"nsubj", "csubj"}
PASSIVE_SUBJECT_DEPS = {"nsubjpass", "csubjpass"}
OBJECT_DEPS = {"dobj", "dative", "obj"}
TARGET_PREPS = {"on", "against", "with", "to", "at", "into", "inside", "within", "toward", "towards", "upon", "over", "for"}
SOURCE_PREPS = {"by", "from"}
NOUN_SOURCE_DEPS = {"poss", "compound", "amod", "nmod"}
CLAUSE_DEPS = {"relcl", "acl", "advcl", "ccomp", "xcomp", "appos", "parataxis"}
RELATIVE_PRONOUNS = {"who", "which", "that", "whom"}
NEGATORS = {"not", "n't", "no", "never", "neither", "nor", "without"}
FALLBACK_LABELS = {"GPE", "ORG", "NORP", "PERSON"}
QUANTITY_LABELS = {"MONEY", "QUANTITY", "CARDINAL", "PERCENT"}
BACKER_LEMMAS = {"back", "sponsor", "fund", "finance", "arm", "support"}  # 'India-backed terrorists': India did not act
SUFFERING_VERBS = {"die", "suffer", "perish", "lose", "kill", "injure", "wound", "hurt", "martyr"}
PHRASE_PREPS = {"of", "inside", "within"}  # 'targets inside Iran': the place's state names the phrase
TITLES = {"pm", "president", "gen", "general", "mr", "ms", "mrs", "dr", "fm", "minister", "premier", "marshal",
          "field", "prime", "foreign", "senator", "sheikh", "prince", "king", "ayatollah", "lt", "col", "maj",
          "cdf", "coas", "cjcsc", "dpm", "deputy", "chief", "commander", "envoy", "spokesperson", "spokesman"}
REPORTING_VERBS = {"say", "tell", "report", "add", "note", "state", "write", "claim", "quote", "cite"}
REACTION_TYPES = {"SUPPORT", "DISAPPROVE", "REJECT", "DEMAND"}  # verbs that react to their object's event, not make it
_PERSON, _BODY = {"PERSON"}, {"GPE", "ORG", "NORP"}
PRONOUN_LABELS = {
    "he": _PERSON, "him": _PERSON, "his": _PERSON, "she": _PERSON, "her": _PERSON,
    "it": _BODY, "its": _BODY, "they": _BODY, "them": _BODY, "their": _BODY,
}


def quad_class(event_type: str) -> str:
    """PLOVER type ('ASSAULT') -> quad class ('material_conflict'); KeyError for an unknown type."""
    return _QUAD_OF[event_type]


def main_type(events: Sequence[Event]) -> str:
    """The type a sentence's events add up to: its main (first) event's type, 'NONE' without one;
    a negated main event counts as REJECT, as CAMEO and PLOVER code a refusal ('will not lift the ban')."""
    if not events:
        return "NONE"
    return "REJECT" if events[0].negated else events[0].type


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class VerbObjectRule:
    """A verb taking one of these objects makes an event of this type ('suspended aid' -> SANCTION)."""

    type: str
    verbs: tuple[str, ...]
    objects: tuple[str, ...]


@dataclass(frozen=True)
class EventRules:
    """A trigger lexicon (lemma or phrase -> PLOVER type) and the word lists the parse rules use.

    The JSON file's "about" field says what each list does.
    """

    version: str
    verbs: dict[str, str]
    nouns: dict[str, str]
    phrases: dict[str, str]
    ignore_phrases: tuple[str, ...] = ()
    statement_phrases: tuple[str, ...] = ()
    light_nouns: frozenset[str] = frozenset()
    background_preps: frozenset[str] = frozenset()
    verb_object: tuple[VerbObjectRule, ...] = ()
    support_verbs: frozenset[str] = frozenset()
    recipient_verbs: frozenset[str] = frozenset()
    negating_governors: frozenset[str] = frozenset()
    intent_auxiliaries: frozenset[str] = frozenset()
    intent_governors: frozenset[str] = frozenset()
    force_types: frozenset[str] = frozenset()


def load_event_rules(version: str = RULES_VERSION) -> EventRules:
    """Read `data/event_patterns/<version>.json`; InputError if a type is unknown or a lemma has two types."""
    path = PATTERNS_DIR / f"{version}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PATTERNS_DIR.glob("*.json")))
        raise InputError(path, None, f"no event pattern set '{version}'; the versions here are {known}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("version") != version:
        raise InputError(path, None, f"its 'version' field says {raw.get('version')!r}, expected {version!r}")
    verb_object = tuple(VerbObjectRule(r["type"], tuple(r["verbs"]), tuple(r["objects"])) for r in raw.get("verb_object", ()))
    intent = raw.get("intent", {})
    named_types = set(raw["types"]) | {r.type for r in verb_object} | set(intent.get("force_types", ()))
    unknown = sorted(named_types - set(PLOVER_TYPES))
    if unknown:
        raise InputError(path, None, f"unknown PLOVER types: {', '.join(unknown)}")
    verbs, nouns, phrases = _lexicon(raw["types"], path)
    return EventRules(
        version=version,
        verbs=verbs,
        nouns=nouns,
        phrases=phrases,
        ignore_phrases=tuple(raw.get("ignore_phrases", ())),
        statement_phrases=tuple(raw.get("statement_phrases", ())),
        light_nouns=frozenset(raw.get("light_nouns", ())),
        background_preps=frozenset(raw.get("background_preps", ())),
        verb_object=verb_object,
        support_verbs=frozenset(raw.get("support_verbs", ())),
        recipient_verbs=frozenset(raw.get("recipient_verbs", ())),
        negating_governors=frozenset(raw.get("negating_governors", ())),
        intent_auxiliaries=frozenset(intent.get("auxiliaries", ())),
        intent_governors=frozenset(intent.get("governors", ())),
        force_types=frozenset(intent.get("force_types", ())),
    )


def _lexicon(types: dict, path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Verb, noun and phrase tables (entry -> type); an entry of several tokens goes to the phrases."""
    verbs, nouns, phrases = {}, {}, {}
    for event_type, entries in types.items():
        for kind, table in (("verbs", verbs), ("nouns", nouns), ("phrases", phrases)):
            for entry in entries.get(kind, ()):
                entry = entry.lower()
                target = phrases if " " in entry or "-" in entry else table
                if target.get(entry, event_type) != event_type:
                    raise InputError(path, None, f"'{entry}' is listed under both {target[entry]} and {event_type}")
                target[entry] = event_type
    return verbs, nouns, phrases


def _by_type(table: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for entry, event_type in table.items():
        grouped.setdefault(event_type, []).append(entry)
    return grouped


def _phrase_pattern(nlp: Language, phrase: str) -> list[dict]:
    """'call for' -> one token pattern per word of the phrase, matched on the lemma."""
    return [{"LEMMA": t.text.lower()} for t in nlp.make_doc(phrase)]


def _noun_forms(nouns: dict[str, str]) -> dict[str, str]:
    """Surface forms of noun triggers as a title-case headline may spell them -> lemma ('Talks' -> 'talk')."""
    return {f: n for n in nouns for f in (n.title() + "es", n.title() + "s", n.title(), n + "es", n + "s", n)}


def build_matcher(nlp: Language, rules: EventRules) -> Matcher:
    """Token Matcher over the lexicon.

    Match ids: VERB and NOUN for single-word triggers (the type is looked up
    from the lemma afterwards, which keeps the matcher to a few patterns),
    the PLOVER type for a phrase, IGNORE, STATEMENT, and VERB_OBJECT for verbs
    that head a verb-object rule.
    """
    matcher = Matcher(nlp.vocab)
    matcher.add(VERB, [[{"LEMMA": {"IN": sorted(rules.verbs)}, "POS": "VERB", "DEP": {"NOT_IN": ["amod", "compound"]}}]])
    matcher.add(NOUN, [
        [{"LEMMA": {"IN": sorted(rules.nouns)}, "POS": "NOUN"}],
        [{"TEXT": {"IN": sorted(_noun_forms(rules.nouns))}, "POS": "PROPN"}],
    ])
    for event_type, phrases in _by_type(rules.phrases).items():
        matcher.add(event_type, [_phrase_pattern(nlp, p) for p in phrases])
    for key, phrases in ((IGNORE, rules.ignore_phrases), (STATEMENT, rules.statement_phrases)):
        if phrases:
            matcher.add(key, [_phrase_pattern(nlp, p) for p in phrases])
    verb_object_verbs = sorted({v for rule in rules.verb_object for v in rule.verbs})
    if verb_object_verbs:
        matcher.add(VERB_OBJECT, [[{"LEMMA": {"IN": verb_object_verbs}, "POS": "VERB"}]])
    return matcher


# ---------------------------------------------------------------- actors


def _actor_from_table(table: dict, i: int, path: Path) -> Actor:
    for key in ("name", "kind"):
        if key not in table:
            raise InputError(path, None, f"actor #{i + 1} is missing the field '{key}'")
    if table["kind"] not in KIND_TO_LABEL:
        raise InputError(path, None, f"actor '{table['name']}' has unknown kind '{table['kind']}'; "
                         f"use one of {', '.join(KIND_TO_LABEL)}")
    return Actor(table["name"], table["kind"], table.get("code", ""), tuple(table.get("aliases", ())))


def load_gazetteer(version: str = "gazetteer-v1") -> tuple[Actor, ...]:
    """Read `data/actors/<version>.toml` (the scenario pack's [[actors]] schema) into Actors."""
    path = ACTORS_DIR / f"{version}.toml"
    if not path.exists():
        raise InputError(path, None, f"no gazetteer '{version}' in {ACTORS_DIR}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None
    return tuple(_actor_from_table(t, i, path) for i, t in enumerate(raw.get("actors", ())))


def merge_actors(gazetteer: Iterable[Actor], pack_actors: Iterable[Actor]) -> tuple[Actor, ...]:
    """Pack actors first, then the gazetteer's, the pack winning every clash (case-insensitive).

    A gazetteer actor whose name is a pack actor's name or alias is dropped;
    a gazetteer alias the pack uses is removed from the gazetteer actor.
    """
    pack = tuple(pack_actors)
    pack_forms = {form.lower() for a in pack for form in a.surface_forms()}
    merged = list(pack)
    for actor in gazetteer:
        if actor.name.lower() in pack_forms:
            continue
        aliases = tuple(a for a in actor.aliases if a.lower() not in pack_forms)
        merged.append(replace(actor, aliases=aliases))
    return tuple(merged)


# ---------------------------------------------------------------- extraction


class EventExtractor:
    """`EventExtractor(nlp, rules, index)(doc) -> list[Event]`, main event of each sentence first.

    `nlp` gives the vocabulary the trigger Matcher is built on (build it once,
    reuse it over every doc of `nlp.pipe`); `index` resolves entities to
    canonical actor names.
    """

    def __init__(self, nlp: Language, rules: EventRules, index: ActorIndex):
        self.rules = rules
        self.index = index
        self.version = rules.version
        self.matcher = build_matcher(nlp, rules)
        self.noun_forms = _noun_forms(rules.nouns)
        self.surnames = _unique_surnames(name for name, kind in index.kinds.items() if kind == "leader")

    def _loose_actor(self, text: str) -> str:
        """An entity the index does not know, read more loosely: 'Indians' as 'Indian', a name without the
        soft hyphens of the page's typesetting, 'the FIA's' without the possessive, 'Gen Munir', 'CDF Munir'
        or 'Xi' by a leader's surname (titles dropped, only when one leader has it); a bare title ('the CDF',
        'PM') names nobody in particular, so ''; else the entity's text as it stands."""
        bare = text.replace("\xad", "")
        bare = bare.removeprefix("the ").removeprefix("The ").removesuffix("’s").removesuffix("'s").strip()
        for form in (bare, bare.removesuffix("s")):
            actor = self.index.by_form.get(form.lower(), "")
            if actor:
                return "" if self.index.is_place(actor) else actor
        words = [w for w in bare.split() if w.lower().rstrip(".") not in TITLES]
        if not words:
            return ""
        if len(words) == 1 and words[0] in self.surnames:
            return self.surnames[words[0]]
        return bare

    def __call__(self, doc: Doc) -> list[Event]:
        triggers = self.find_triggers(doc)
        if not triggers:
            return []
        sentences = list(doc.sents)
        starts = [s.start for s in sentences]
        entity_at = {i: ent for ent in doc.ents for i in range(ent.start, ent.end)}
        found = []
        for token, event_type in triggers:
            index = bisect_right(starts, token.i) - 1
            event = self._event(token, event_type, sentences[index], index, entity_at)
            found.append((index, _depth(token), token.i, event))
        found.sort(key=lambda row: row[:3])
        return [row[3] for row in found]

    def find_triggers(self, doc: Doc) -> list[tuple[Token, str]]:
        """(trigger token, PLOVER type) pairs for the whole doc, in no particular order.

        Longest lexicon match wins; then verb-object rules; then support verbs
        yield to their object; last, triggers under a statement phrase go.
        """
        strings = doc.vocab.strings
        spans, verb_object_heads = [], []
        for match_id, start, end in self.matcher(doc):
            if strings[match_id] == VERB_OBJECT:
                verb_object_heads.append(doc[start])
            else:
                spans.append(Span(doc, start, end, label=match_id))
        triggers: dict[int, tuple[Token, str]] = {}
        statements = set()
        for span in filter_spans(spans):
            token = span.root
            if span.label_ == STATEMENT:
                statements.add(token.i)
            elif span.label_ != IGNORE and token.ent_type_ not in ACTOR_LABELS and not _in_passing(token, self.rules):
                triggers[token.i] = (token, self._type_of(token, span.label_))
        for verb in verb_object_heads:
            self._apply_verb_object_rules(verb, triggers)
        kept = [t for t in triggers.values() if not self._yields_to_object(t[0], triggers)]
        if statements:
            kept = [t for t in kept if not any(a.i in statements for a in (t[0], *t[0].ancestors))]
        return kept

    def _type_of(self, token: Token, label: str) -> str:
        """The PLOVER type of a match: phrases carry it, single words are looked up by lemma."""
        if label == VERB:
            return self.rules.verbs[token.lemma_.lower()]
        if label == NOUN:
            return self.rules.nouns.get(token.lemma_.lower()) or self.rules.nouns[self.noun_forms[token.text]]
        return label

    def _apply_verb_object_rules(self, verb: Token, triggers: dict[int, tuple[Token, str]]) -> None:
        """'suspended aid' -> the verb becomes a SANCTION trigger and the object noun stops being one.

        The object is the verb's direct object or passive subject, or the compound
        modifying it ('ended mediation efforts').
        """
        lemma = verb.lemma_.lower()
        objects = [c for c in verb.children if c.dep_ in OBJECT_DEPS | PASSIVE_SUBJECT_DEPS]
        objects += [c for o in objects for c in o.children if c.dep_ == "compound"]
        for rule in self.rules.verb_object:
            if lemma not in rule.verbs:
                continue
            for obj in objects:
                if obj.lemma_.lower() in rule.objects:
                    triggers.pop(obj.i, None)
                    triggers[verb.i] = (verb, rule.type)
                    return

    def _yields_to_object(self, token: Token, triggers: dict) -> bool:
        """A support verb whose direct object is itself a trigger ('struck a deal') makes no event of its own."""
        if token.pos_ != "VERB" or token.lemma_.lower() not in self.rules.support_verbs:
            return False
        return any(c.dep_ in OBJECT_DEPS and c.i in triggers for c in token.children)

    def _event(self, token: Token, event_type: str, sent: Span, index: int, entity_at: dict) -> Event:
        if token.pos_ in ("VERB", "AUX"):
            sources, targets = _verb_arguments(token)
        else:
            sources, targets = self._noun_arguments(token)
        source = self._first_actor(sources, entity_at)
        target = self._first_actor([t for t in targets if t not in sources], entity_at, exclude=source)
        return Event(
            type=self._intended_type(token, event_type),
            source=source,
            target=target,
            trigger=token.text,
            sentence=sent.text.strip(),
            negated=_is_negated(token, self.rules.negating_governors),
            sentence_index=index,
            coder=self.version,
        )

    def _intended_type(self, token: Token, event_type: str) -> str:
        """Announced, not done: 'will provide aid' is AGREE, 'would retaliate' is THREATEN (PLOVER codes intent so)."""
        cooperation = _QUAD_OF[event_type] in ("verbal_cooperation", "material_cooperation")
        if not (cooperation or event_type in self.rules.force_types) or event_type == "AGREE":
            return event_type
        if not _is_intended(token, self.rules.intent_auxiliaries, self.rules.intent_governors):
            return event_type
        return "AGREE" if cooperation else "THREATEN"

    def _noun_arguments(self, noun: Token) -> tuple[list[Token], list[Token]]:
        """Source and target candidates of a noun trigger: its own modifiers, then (for an object) its verb's,
        or (under a verb's preposition, `_prep_verb_arguments`) its verb's subject. A trigger that modifies
        another noun ('a bailout programme', 'peace talks') is read through the phrase it heads: 'Pakistan
        secured a bailout programme from the IMF'."""
        sources, targets = _noun_own_arguments(noun)
        while noun.dep_ == "compound" and noun.head.pos_ in ("NOUN", "PROPN"):
            noun = noun.head
            more_sources, more_targets = _noun_own_arguments(noun)
            sources, targets = sources + more_sources, targets + more_targets
        verb = noun.head
        if noun.dep_ == "pobj" and not sources:
            return _prep_verb_arguments(noun, targets)
        if noun.dep_ not in OBJECT_DEPS | {"attr", "oprd"} or verb.pos_ not in ("VERB", "AUX"):
            return sources, targets
        if self.rules.verbs.get(verb.lemma_.lower()) in REACTION_TYPES:
            return sources, targets  # 'China welcomed the ceasefire': China did not make the ceasefire
        subject = _subject(verb)
        if verb.lemma_.lower() in self.rules.recipient_verbs:
            return _prep_objects(verb, SOURCE_PREPS) + sources, _present(subject) + targets
        return (
            sources + _present(subject),
            targets + _prep_objects(verb, TARGET_PREPS) + _present(_conjoined(subject)),
        )

    def _first_actor(self, candidates: list[Token], entity_at: dict, exclude: str = "") -> str:
        """The first candidate phrase that names an actor (other than `exclude`), else ''."""
        for token in candidates:
            actor = self._actor(token, entity_at)
            if actor and actor != exclude:
                return actor
        return ""

    def _actor(self, token: Token, entity_at: dict) -> str:
        """Actor named by the phrase headed by `token`.

        A pronoun ('it', 'they', 'he') stands for the nearest actor before it in the
        same sentence (`_antecedent`). Otherwise: the entity covering the head word, resolved
        or read loosely (`_loose_actor`: 'Pakistani national Ahmed Raza' is Ahmed Raza, not
        Pakistan); else the nearest entity in the phrase that resolves ('the foreign minister
        of Iran', 'targets inside Iran'); else the text of a GPE/ORG/NORP/PERSON entity; else
        a leader's unique surname the parser left untagged ('Dar'). A place (Taftan, the
        Strait of Hormuz) is no actor: it leaves the slot empty rather than stand in it.
        """
        if token.lower_ in PRONOUN_LABELS:
            return self._antecedent(token, entity_at)
        own = entity_at.get(token.i)
        if own is not None and own.label_ in FALLBACK_LABELS and not self.index.resolve(own):
            return self._loose_actor(own.text)  # 'Pakistani national Muhammad Asif Hafeez': the head's own name
        entities = _entities_in_phrase(token, entity_at)
        for ent in entities:
            actor = self.index.resolve(ent)
            if actor:
                return "" if self.index.is_place(actor) else actor
        for ent in entities:
            if ent.label_ in FALLBACK_LABELS:
                return self._loose_actor(ent.text)
        if token.pos_ == "PROPN" and token.text in self.surnames:  # 'Dar spoke with ...', untagged by the parser
            return self.surnames[token.text]
        owner = _child(token, {"poss"})  # 'its embassy': the embassy's owner
        if owner is not None and owner.lower_ in PRONOUN_LABELS:
            return self._antecedent(owner, entity_at)
        return ""

    def _antecedent(self, pronoun: Token, entity_at: dict) -> str:
        """The canonical actor a pronoun refers to: the nearest resolvable entity before it in its
        sentence whose label fits ('he' a PERSON; 'it', 'they' a state or organisation); else ''."""
        labels = PRONOUN_LABELS[pronoun.lower_]
        for i in range(pronoun.i - 1, pronoun.sent.start - 1, -1):
            ent = entity_at.get(i)
            if ent is None or ent.label_ not in labels or ent.end - 1 != i:
                continue
            actor = self.index.resolve(ent)
            if actor and not self.index.is_place(actor):
                return actor
        return ""


# ---------------------------------------------------------------- parse helpers


def _unique_surnames(names: Iterable[str]) -> dict[str, str]:
    """Last word of each leader's name -> the name, for surnames that only one leader has."""
    by_surname: dict[str, list[str]] = {}
    for name in names:
        by_surname.setdefault(name.split()[-1], []).append(name)
    return {surname: found[0] for surname, found in by_surname.items() if len(found) == 1}


def _depth(token: Token) -> int:
    """Number of dependency arcs between the token and its sentence root."""
    depth = 0
    while token.head != token:
        token, depth = token.head, depth + 1
    return depth


def _present(token: Token | None) -> list[Token]:
    return [] if token is None else [token]


def _child(token: Token, deps: set[str]) -> Token | None:
    return next((c for c in token.children if c.dep_ in deps), None)


def _prep_objects(token: Token, preps: set[str]) -> list[Token]:
    """Objects of the token's child prepositions in `preps`, in order ('strikes on Iran' -> [Iran])."""
    objects = []
    for prep in token.children:
        if prep.dep_ in ("prep", "agent") and prep.lower_ in preps:
            objects.extend(c for c in prep.children if c.dep_ == "pobj")
    return objects


def _subject(verb: Token) -> Token | None:
    """The verb's subject, borrowed from the governing verb for xcomp/conj clauses, from the noun of a relcl,
    from the noun a to-infinitive hangs off ('PM Shehbaz to visit Saudi Arabia': a headline's announced deed),
    and for a gerund under a preposition from the verb the preposition hangs off ('Muttaqi will travel to
    Russia before visiting New Delhi')."""
    for _ in range(4):
        subject = _child(verb, SUBJECT_DEPS)
        if subject is not None and subject.lower_ not in RELATIVE_PRONOUNS:
            return subject
        if verb.dep_ == "relcl" and subject is not None:
            return verb.head
        if _is_noun_infinitive(verb):
            return verb.head
        if verb.dep_ == "pcomp" and verb.head.dep_ == "prep" and verb.head.head.pos_ in ("VERB", "AUX"):
            verb = verb.head.head
            continue
        if verb.dep_ not in ("xcomp", "conj", "advcl", "acomp") or verb.head == verb:
            return None
        verb = verb.head
    return None


def _is_noun_infinitive(verb: Token) -> bool:
    """'Dar to visit Beijing': a to-infinitive without a subject of its own, attached to a name."""
    return (verb.dep_ in ("relcl", "acl", "advcl") and (verb.head.pos_ == "PROPN" or bool(verb.head.ent_type_))
            and any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children))


def _conjoined(token: Token | None) -> Token | None:
    """'Pakistan and Iran signed ...': the subject's conjoined partner (Iran) is a target candidate."""
    return None if token is None else _child(token, {"conj"})


def _verb_arguments(verb: Token) -> tuple[list[Token], list[Token]]:
    """Source and target candidates of a verb trigger: subject or agent; object, passive subject, prep object."""
    passive = _child(verb, PASSIVE_SUBJECT_DEPS)
    if passive is not None:
        return _prep_objects(verb, {"by"}), [passive]
    patient = _reduced_passive_subject(verb)
    if patient is not None:
        return _prep_objects(verb, {"by"}), [patient]
    subject = _subject(verb)
    objects = [c for c in verb.children if c.dep_ in OBJECT_DEPS]
    object_preps = [t for o in objects for t in _prep_objects(o, TARGET_PREPS)]  # 'fired rockets towards Israel'
    targets = objects + _prep_objects(verb, TARGET_PREPS) + object_preps + _present(_conjoined(subject))
    deed_sources, deed_targets = _subject_deed_arguments(subject)
    return _present(subject) + deed_sources, targets + deed_targets


def _subject_deed_arguments(subject: Token | None) -> tuple[list[Token], list[Token]]:
    """'Iran's attacks on Israel killed 28 people', 'an investigation by Amnesty blamed the US': a common-noun
    subject that is itself a deed names its maker ('by', 'from') and its target in its own phrase, where
    the subject (the attacks) and the verb's object (the victims) name none."""
    if subject is None or subject.pos_ != "NOUN":
        return [], []
    return _prep_objects(subject, SOURCE_PREPS), _prep_objects(subject, TARGET_PREPS)


def _reduced_passive_subject(verb: Token) -> Token | None:
    """'224 Iranians killed', 'the ships seized by Iran': a past participle with no auxiliary and no object
    is a passive (headlines and 'with' clauses drop the 'were'); its subject, or the noun it
    modifies, is what was done to. None for any other verb."""
    if verb.tag_ != "VBN" or any(c.dep_ in OBJECT_DEPS for c in verb.children):
        return None
    verbs = [verb, verb.head] if verb.dep_ == "conj" else [verb]
    if any(c.dep_ in ("aux", "auxpass") for v in verbs for c in v.children):
        return None
    if verb.dep_ == "acl":
        return verb.head
    return _child(verb, SUBJECT_DEPS)


def _prep_verb_arguments(noun: Token, targets: list[Token]) -> tuple[list[Token], list[Token]]:
    """'Iran took part in talks with Pakistan', 'Pakistan has witnessed in skirmishes with Afghanistan': a deed
    noun without a maker of its own, under a preposition of an active verb, was made by that verb's subject
    and shares the verb's targets. Not under a passive or a verb of suffering ('soldiers died in the attack'
    did not make it): then the noun's own `targets` alone."""
    verb = noun.head.head
    if noun.head.dep_ != "prep" or verb.pos_ not in ("VERB", "AUX") or verb.lemma_.lower() in SUFFERING_VERBS:
        return [], targets
    if _child(verb, PASSIVE_SUBJECT_DEPS) is not None or _reduced_passive_subject(verb) is not None:
        return [], targets
    subject = _subject(verb)
    if subject is None:
        return [], targets
    return [subject], targets + [t for t in _prep_objects(verb, TARGET_PREPS) if t != noun]


def _noun_own_arguments(noun: Token) -> tuple[list[Token], list[Token]]:
    """From the noun phrase alone: 'Israeli strikes on Iran', 'talks between Iran and Pakistan', 'attack by militants'."""
    sources = _prep_objects(noun, SOURCE_PREPS)
    sources += [c for c in noun.children if c.dep_ in NOUN_SOURCE_DEPS and (c.ent_type_ or c.lower_ in PRONOUN_LABELS)]
    targets = _prep_objects(noun, TARGET_PREPS)
    for first in _prep_objects(noun, {"between", "among", "amongst"}):
        sources.append(first)
        targets += _present(_conjoined(first))
    return sources, targets


def _phrase_tokens(token: Token) -> list[Token]:
    """The token's phrase, nearest tokens first: its subtree minus clauses, prepositions other than
    'of', 'inside' and 'within', and a backer's modifier ('India-backed', 'Indian-sponsored': the backer
    is not the one the phrase names)."""
    keep, stack = [], [token]
    while stack:
        current = stack.pop()
        keep.append(current)
        stack.extend(
            c for c in current.children
            if c.dep_ not in CLAUSE_DEPS and not (c.dep_ == "prep" and c.lower_ not in PHRASE_PREPS)
            and not (c.dep_ in ("amod", "compound") and c.lemma_.lower() in BACKER_LEMMAS)
        )
    return sorted(keep, key=lambda t: abs(t.i - token.i))


def _entities_in_phrase(token: Token, entity_at: dict) -> list[Span]:
    """Entities in the token's phrase, the one covering the token itself first, then by distance."""
    seen, entities = set(), []
    for t in _phrase_tokens(token):
        ent = entity_at.get(t.i)
        if ent is not None and ent.start not in seen:
            seen.add(ent.start)
            entities.append(ent)
    return entities


def _in_passing(token: Token, rules: EventRules) -> bool:
    """A noun mentioned in passing, not a reported event: inside another noun's phrase ('efforts for
    negotiations') or as a time/cause reference ('shares fell after the strikes', 'after a ceasefire
    announcement'). Under a verb ('killed in an attack'), a quantity ('$2 million in aid') or a light
    noun ('a round of talks') it still counts."""
    if token.pos_ in ("VERB", "AUX"):
        return False
    while token.dep_ == "compound" and token.head != token:
        token = token.head
    if token.dep_ != "pobj":
        return False
    if token.head.lower_ in rules.background_preps:
        return True
    holder = token.head.head
    if holder.pos_ not in ("NOUN", "PROPN", "PRON"):
        return False
    quantity = holder.ent_type_ in QUANTITY_LABELS or any(c.dep_ == "nummod" for c in holder.children)
    return not quantity and holder.lemma_.lower() not in rules.light_nouns


def _clause_verb(token: Token) -> Token:
    """The verb a noun trigger is the object or subject of, else the token itself."""
    if token.pos_ not in ("VERB", "AUX") and token.dep_ in OBJECT_DEPS | PASSIVE_SUBJECT_DEPS | {"nsubj", "attr"}:
        return token.head
    return token


def _reported_clause(root: Token) -> Token:
    """'The media office said debris fell...': the verb of what was reported, not the reporting verb,
    so the speaker does not become the event's source. The root itself when it reports nothing."""
    for _ in range(3):
        clause = _child(root, {"ccomp"}) if root.lemma_.lower() in REPORTING_VERBS else None
        if clause is None:
            return root
        root = clause
    return root


def _is_intended(trigger: Token, auxiliaries: frozenset[str], governors: frozenset[str]) -> bool:
    """'will attack', 'would provide aid', 'is willing to withdraw', 'pledged to help', 'ready for talks'."""
    if trigger.dep_ == "pobj" and trigger.head.head.lemma_.lower() in governors:
        return True
    token = _clause_verb(trigger)
    for _ in range(4):
        if any(c.dep_ == "aux" and c.lower_ in auxiliaries for c in token.children):
            return True
        if token.dep_ != "xcomp" or token.head == token:
            return False
        token = token.head
        if token.lemma_.lower() in governors:
            return True
    return False


def _negates(token: Token) -> bool:
    return token.dep_ == "neg" or (token.lower_ in NEGATORS and token.dep_ in ("det", "advmod", "preconj"))


def _is_negated(trigger: Token, governors: frozenset[str]) -> bool:
    """'did not reject', 'no talks', 'never attacked', 'refused to attend talks', 'did not hold talks'."""
    if any(_negates(c) for c in trigger.children):
        return True
    token = _clause_verb(trigger)
    if any(_negates(c) for c in token.children):
        return True
    while token.dep_ == "xcomp" and token.head != token:
        token = token.head
        if token.lemma_.lower() in governors or any(_negates(c) for c in token.children):
            return True
    return False


# ---------------------------------------------------------------- rules + model


def candidate_sentences(extractor: EventExtractor, doc: Doc) -> tuple[list[Span], dict[int, list[Event]], list[int]]:
    """(the doc's sentences, the rules' events by sentence index, the indices of the sentences the coder's model
    types: those with a rule event or naming an actor)."""
    by_sentence: dict[int, list[Event]] = {}
    for event in extractor(doc):
        by_sentence.setdefault(event.sentence_index, []).append(event)
    sentences = list(doc.sents)
    starts = [s.start for s in sentences]
    naming = {bisect_right(starts, e.start) - 1 for e in doc.ents if e.label_ in FALLBACK_LABELS}
    return sentences, by_sentence, sorted(naming | set(by_sentence))


class EventCoder:
    """`EventCoder(extractor, model)(doc) -> list[Event]`: the rules' events, with the learned model's word on each sentence.

    For every sentence that has a rule event or names an actor, the model (see
    `event_model`) gives its most probable type; `event_model.combine` decides the
    sentence's main type. Where that is the rules' main type nothing changes; where
    it is NONE the sentence's events go; where it is another type the rule event of
    that type moves first, or the main event is retyped, or, in a sentence without
    rule events, a new event is made at the sentence's root verb with the actors its
    parse gives. `version` ('plover-v2+plover-model-v7@<sha12>') is what the events table stores.
    """

    def __init__(self, extractor: EventExtractor, model: EventTypeModel | CascadeModel):
        self.extractor = extractor
        self.model = model
        self.version = f"{extractor.version}+{model.version}@{model.manifest.get('sha256', '')[:12]}"

    def __call__(self, doc: Doc) -> list[Event]:
        sentences, by_sentence, candidates = candidate_sentences(self.extractor, doc)
        texts = [sentences[i].text for i in candidates] if self.model.vector_weight else []
        rule_types = [main_type(by_sentence.get(i, [])) for i in candidates]
        decisions = self.model.decide(rule_types, [sentence_features(sentences[i], by_sentence.get(i, [])) for i in candidates], texts)
        entity_at = None
        for i, rule_type, decided in zip(candidates, rule_types, decisions):
            rule_events = by_sentence.get(i, [])
            if decided == rule_type:
                continue
            if decided == "NONE":
                by_sentence.pop(i, None)
                continue
            same = [e for e in rule_events if e.type == decided and not e.negated]
            if same:
                by_sentence[i] = same[:1] + [e for e in rule_events if e is not same[0]]
            elif rule_events:  # the model retypes the rules' main event; a negation the parse shows stays
                by_sentence[i] = [replace(rule_events[0], type=decided)] + rule_events[1:]
            else:
                if entity_at is None:
                    entity_at = {t: ent for ent in doc.ents for t in range(ent.start, ent.end)}
                anchor = sentences[i].root
                if quad_class(decided).startswith("material"):  # a deed reported: the speaker did not do it
                    anchor = _reported_clause(anchor)
                by_sentence[i] = [replace(self.extractor._event(anchor, decided, sentences[i], i, entity_at), type=decided, negated=False)]
        return [replace(e, coder=self.version) for i in sorted(by_sentence) for e in by_sentence[i]]


def event_coder_version(rules_version: str = RULES_VERSION, model_version: str | None = None) -> str:
    """The version `load_event_coder` would report, without loading spaCy: 'plover-v2+plover-model-v7@<sha12>'
    (the model file's sha256 from its manifest, so a retrained model changes it)."""
    manifest = read_manifest(model_version or DEFAULT_VERSION)
    return f"{rules_version}+{manifest['version']}@{manifest['sha256'][:12]}"


def load_event_coder(nlp: Language, actors: Sequence[Actor], rules_version: str = RULES_VERSION,
                     model_version: str | None = None) -> EventCoder:
    """The coder the pipeline uses: the rule set `rules_version` with the saved event model (sha256-checked)."""
    extractor = EventExtractor(nlp, load_event_rules(rules_version), ActorIndex(actors))
    return EventCoder(extractor, load_event_model(model_version or DEFAULT_VERSION))


def extractor_for(nlp: Language, actors: Sequence[Actor], version: str = RULES_VERSION) -> EventExtractor:
    """Convenience: an extractor over `actors` with the rule set `version`."""
    return EventExtractor(nlp, load_event_rules(version), ActorIndex(actors))
