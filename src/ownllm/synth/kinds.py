"""Descriptive attributes: what kind of a thing the subject has ("It has hydraulic disc brakes").

`facts.py` finds values by their shape and `attributes.py` by a label or a copula; a thing described by the words
in front of its noun has neither. The noun names the attribute and its modifiers are the value, so "It has
hydraulic disc brakes" asks "What kind of brakes does X have?" → "hydraulic disc" and "What brakes does X
have?" → "hydraulic disc brakes". Only a noun phrase that ends its clause after a verb of having is read
("has", "comes with", "is equipped with", "with a"), and a coordinated list is read item by item ("with a
colour display and a ring lock"). Guards keep out what is not a description: numbers (counts are `facts.py`'s),
function words, participles ("has increased sales"), adverbs and praise ("great products"). English only:
Chinese states such an attribute with 为 ("刹车为液压碟刹"), which `attributes.py` reads; Chinese noun phrases have
no spaces to find their head by.
"""

from __future__ import annotations

import re

from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument

# a verb of having, with who has it before it ("It has", "the drivetrain has", "The VM-A300 comes with"); "with"
# alone only after a comma ("…, with a colour display"), where it adds to what the clause's owner has
# who does what a verb says: up to two words right before it ("It", "The VM-A300"); read by `match_owner`
OWNER_BEFORE_VERB = r"(?:(?P<owner>(?<![\w'’-])[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?) )?(?<![\w'’-])"
_HAVING = re.compile(OWNER_BEFORE_VERB + r"(?P<verb>has|have|comes with|come with|"
                     r"(?:is|are) (?:equipped|fitted|supplied|shipped) with|features|uses)\s+"
                     r"|(?<=[,;] )(?P<with>with)\s+")
# a noun phrase: an optional article, one to four modifiers, the head noun; it must end its clause or join the
# next item of a list
_PHRASE = re.compile(r"(?:(?:a|an|the) )?(?P<phrase>(?P<kind>(?:[A-Za-z0-9][\w.-]* ){1,4}?)(?P<head>[a-z][a-z-]{2,}))"
                     r"(?P<end>\s*(?:[,;.!?]|$)| and (?=\S)| with )")
# words that are not a description of a thing: function words, quantifiers, auxiliaries, praise, vague nouns
_NOT_DESCRIPTIVE = {
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "by", "from", "with", "and", "or", "but", "not", "no", "as",
    "like", "into", "about", "over", "under", "through", "between", "after", "before", "during", "without", "within",
    "per", "via", "is", "are", "was", "were",
    "any", "some", "all", "each", "every", "many", "much", "more", "most", "less", "least", "few", "fewer", "several",
    "other", "another", "such", "same", "own", "its", "their", "our", "your", "his", "her", "this", "that", "these",
    "those", "it", "they", "been", "be", "being", "had", "has", "have", "do", "does", "did", "will", "would", "can",
    "could", "may", "might", "must", "should", "shall", "also", "only", "just", "even", "still", "very", "too", "so",
    "than", "then", "there", "here", "what", "which", "who", "whom", "whose", "one", "two", "three", "four", "five",
    "six", "ten", "first", "second", "last", "next", "new", "good", "great", "best", "better", "excellent", "nice",
    "strong", "high", "low", "big", "small", "large", "little", "long", "short", "full", "total", "whole", "main",
    "key", "important", "significant", "special", "various", "different", "certain", "general", "overall", "access",
    "time", "need", "right", "chance", "effect", "impact", "role", "part", "way", "place", "use", "value", "lot",
    "number", "amount", "level", "kind", "type", "sort", "thing", "things", "something", "nothing", "everything",
    "anything", "interesting", "useful", "easy", "simple", "difficult", "hard", "beautiful", "amazing", "wonderful",
    "unique", "powerful", "innovative", "modern", "robust", "flexible", "reliable", "happy", "perfect", "problem",
    "problems", "issue", "issues", "question", "questions", "idea", "ideas", "fun",
    # irregular past participles: "has become standard practice" is a tense, not a possession
    "become", "done", "made", "taken", "given", "seen", "grown", "shown", "known", "won", "begun", "run", "set", "put",
    "led", "held", "built", "sent", "spent", "kept", "brought", "bought", "thought", "found", "told", "sold", "paid",
    "left", "lost", "met", "read", "written", "chosen", "driven", "fallen", "risen", "gone", "got", "gotten"}
# adverbs by their usual endings ("has recently opened", "has significantly more"); "weekly", "daily" and "family"
# end otherwise and stay
_ADVERB = re.compile(r"\w+(?:ally|ously|ively|ently|antly|ularly|ibly|ably)$")
# an owner that is the sentence's subject word ("It has"): the question names the document's subject instead
_PRONOUNS = {"it", "they", "he", "she", "we", "you", "i", "which", "that", "who", "each", "both", "all"}
_PLURAL_VERBS = {"have", "come with", "are equipped with", "are fitted with", "are supplied with", "are shipped with"}


def _descriptive(words: list[str]) -> bool:
    """Modifiers and head describe a thing: no bare number (a count is `facts.py`'s; a size joined to its unit,
    "2.2-inch", describes), no function word, no past participle or adverb ("has increased sales", "has recently
    opened"); a noun in -eed ("speed") is no participle."""
    for word in words:
        if word.isupper() and len(word) > 1:
            continue  # an acronym ("LED lighting") is a name, whatever word it spells
        lower = word.lower()
        if ((re.search(r"\d", word) and not re.fullmatch(r"\d+(?:\.\d+)?-[a-z]+", lower))
                or lower in _NOT_DESCRIPTIVE or _ADVERB.fullmatch(lower)
                or (lower.endswith("ed") and not lower.endswith("eed") and len(lower) > 4)):
            return False
    return True


def match_owner(match: re.Match[str], sentence: str, subject: str) -> tuple[str, bool] | None:
    """Who has the thing, as the question names it, and whether that is one of the subject's parts: the subject
    for "It has", "the drivetrain of X" for "the drivetrain has"; None where the sentence names another owner the
    question could not name ("Customers have"). A verb with no owner before it (`OWNER_BEFORE_VERB`) counts only
    where it starts the sentence ("Has hydraulic brakes."): any other word before it may be a negation
    ("doesn't have")."""
    owner = match.group("owner")
    if owner is None and sentence[:match.start()].strip():
        return None
    if owner is None or owner.lower() in _PRONOUNS:
        return subject, False
    words = owner.split()
    if words[0].lower() in ("the", "its", "their"):
        words = words[1:]
    if not words or (len(words) > 1 and words[0].lower() in _PRONOUNS):
        return None
    named = " ".join(words)
    if named in subject:
        return subject, False
    if len(words) == 1 and named.islower() and named not in _NOT_DESCRIPTIVE:
        return f"the {named} of {subject}", True
    return None


def kind_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """"It has hydraulic disc brakes" → "What kind of brakes does X have?" ("hydraulic disc") and "What brakes
    does X have?" ("hydraulic disc brakes"), with a fill-in-the-blank twin; one set per item of a list."""
    pairs: list[QAPair] = []
    for having in _HAVING.finditer(sentence):
        found = (subject, False) if having.group("with") else match_owner(having, sentence, subject)
        if found is None:
            continue
        owner, part = found
        does = "do" if part and having.group("verb") in _PLURAL_VERBS else "does"
        position = having.end()
        while (match := _PHRASE.match(sentence, position)) is not None:
            kind, head = match.group("kind").split(), match.group("head")
            if not _descriptive([*kind, head]):
                break  # what follows a phrase that is no description is not a list of descriptions either
            kind_text, phrase = " ".join(kind), match.group("phrase")
            blank = f"{sentence[having.start():match.start('phrase')].strip()} ___ {head}"
            asked = [(f"What kind of {head} {does} {owner} have?", kind_text),
                     (f"What {head} {does} {owner} have?", phrase),
                     (f'In "{subject}", what fills the blank: "{blank}"?', kind_text)]
            pairs += [QAPair(question, answer, "en", document.id, chunk.id, "facts", evidence=sentence,
                             meta={"kind": "description"}) for question, answer in asked]
            if not match.group("end").startswith(" and"):
                break
            position = match.end()
    return pairs
