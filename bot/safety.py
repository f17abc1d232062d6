"""Does a message suggest that someone may be in danger? A conservative keyword heuristic.

`suggests_danger(text)` is True when what a person wrote contains a phrase that commonly
means violence against them (or their children), fear for their safety, or thoughts of
self-harm or suicide. The bot then shows `safety/care`: it says the message was not passed
on, that the bot is not for emergencies, points to local emergency services, and offers to
pause every nudge. `check_danger(text)` says which kind of phrase matched.

This is not a classifier and it does not understand language. It matches a hand-written
list of phrasings, after normalising the text, and it is tuned to leave everyday speech
alone ("you killed it at dinner", "I'm dying to see you", "she beat me at chess").

Known limits (false negatives are possible; the bot says everywhere that it is not for
emergencies):

* English only. Other languages, heavy slang, abbreviations ("kms") and deliberate
  obfuscation ("k i l l", "h1t") are not recognised.
* Words with several meanings need context. "hit", "beat" and "kick" count only with a
  person as subject ("he", "she", "they", "my husband", "her ex", ...): "Tom hit me" is
  missed, "Tom punched me" is caught. A bare "scared of ..." counts for "him", "her" and
  a partner ("my husband", "my ex"), not for "them" ("spiders? I'm scared of them"), a
  name, or other family ("I'm scared of my dad" is missed unless it says more, such as
  "scared my dad will hurt me").
* Hyperbole that is usually harmless is not flagged: "she's going to kill me when she
  sees the bill", "I can't go on like this", "it's killing me", "I don't feel safe
  talking about money". A literal meaning written that way is missed.
* Simple negation just before a phrase ("he never hit me", "I'm not scared of him")
  suppresses it; anything more distant ("it's not as if he hit me") does not.
* Some harmless messages are still flagged ("she threatened to kill me if I ate her
  leftovers", "I'm scared to go home and tell him I lost my job", "he made me laugh so
  hard I wanted to die", "he punched me on the arm, playfully"). That costs one kind
  note, which also says that nothing needs doing if it misread.
* Danger described without any of these phrases ("he took my phone and locked the door")
  is not recognised.

The check is linear in the length of the text (a 12,000-character message takes a
millisecond or two) and never raises, whatever the input.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from bot import classifier
from bot.settings import REFERENCE_LANGUAGE

Category = Literal["violence", "fear", "self_harm"]

__all__ = [
    "Category",
    "CrisisLine",
    "CrisisResources",
    "DangerCheck",
    "check_danger",
    "country_for_zone",
    "normalise",
    "resources_for",
    "suggests_danger",
]


@dataclass(frozen=True, slots=True)
class DangerCheck:
    """The result of `check_danger`: the kind of phrase found, if any, or else the trained
    classifier's score when it alone flagged the text (bot/classifier.py)."""

    category: Category | None = None
    classifier: float | None = None

    @property
    def flagged(self) -> bool:
        return self.category is not None or self.classifier is not None

    def __bool__(self) -> bool:
        return self.flagged


# --- normalising ------------------------------------------------------------------------

# Combining marks (accents left after NFKD) and invisible format characters, removed.
_MARKS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_APOSTROPHES = "\u2018\u2019\u201b\u02bc\u02b9\u02bb\u02bd\u2032\u00b4`\uff07"
# An ellipsis is a pause, not the end of a clause ("he... hit me").
_ELLIPSIS = re.compile(r"\.{2,}|\u2026")
# Punctuation that ends a clause becomes a " . " token, so phrases do not match across it.
_CLAUSE = re.compile(r"[.!?;:,()\[\]{}\n\r\u0085\u2028\u2029\u3002\uff0e]+")
_OTHER = re.compile(r"[^\w'. ]+|_+")
_SPACES = re.compile(r"  +")
_DOTS = re.compile(r"\.(?: \.)+")
# "don t", "i m": a contraction whose apostrophe was some other character.
_SPLIT_CONTRACTION = re.compile(r" (?=(?:t|m|s|ll|re|ve|d)(?![\w']))(?<=\w )")
_EXPANSIONS = {
    "i'm": "i am",
    "im": "i am",
    "i've": "i have",
    "ive": "i have",
    "i'll": "i will",
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "couldn't": "could not",
    "couldnt": "could not",
    "won't": "will not",
    "wont": "will not",
    "wouldn't": "would not",
    "wouldnt": "would not",
    "isn't": "is not",
    "isnt": "is not",
    "aren't": "are not",
    "arent": "are not",
    "wasn't": "was not",
    "wasnt": "was not",
    "haven't": "have not",
    "havent": "have not",
    "hasn't": "has not",
    "hasnt": "has not",
    "he'll": "he will",
    "she'll": "she will",
    "they'll": "they will",
    "hes": "he's",
    "shes": "she's",
    "wanna": "want to",
    "gonna": "going to",
}
_SELF = re.compile(r"(?<![\w'])(my|him|her|them|your) self(?![\w'])")


def normalise(text: str, language: str = REFERENCE_LANGUAGE) -> str:
    """Lower-case words separated by single spaces, with " . " where a clause ended.

    Accents and invisible characters are dropped, apostrophe look-alikes become "'",
    English contractions are spelled out ("I’m" -> "i am", "didn't" -> "did not"), not
    in German ("im" is a German word).
    """
    s = unicodedata.normalize("NFKD", text).casefold()
    if not s.isascii():
        s = _MARKS.sub("", s)
    for mark in _APOSTROPHES:
        if mark in s:
            s = s.replace(mark, "'")
    s = _ELLIPSIS.sub(" ", s)
    s = _CLAUSE.sub(" . ", s)
    s = _OTHER.sub(" ", s)
    s = _SPACES.sub(" ", s)
    s = _DOTS.sub(".", s)
    if "'" in s:
        # Apostrophes at the edge of a word are quotation marks.
        s = " ".join(w for w in (w.strip("'") for w in s.split(" ")) if w)
    if language != "de":
        s = _SPLIT_CONTRACTION.sub("'", s)
        s = " ".join([_EXPANSIONS.get(w, w) for w in s.split(" ")])
    if " self" in s:
        s = _SELF.sub(r"\1self", s)
    return s.strip(" .")


# --- phrases ----------------------------------------------------------------------------
# Patterns run on normalised text: single spaces, " . " between clauses. <NAME> stands for
# a shared piece below. Every pattern starts at a word start and ends at a word end.

_PIECES = {
    # People whose violence the phrase is about; "my", "the", "her" ... are optional.
    "REL": r"<RELBASE>(?![\w'])",
    "RELBASE": (
        r"(?:(?:my|our|the|his|her|their|your) )?(?:partner|husband|wife|boyfriend|"
        r"girlfriend|bf|gf|spouse|fiance|fiancee|ex|ex husband|ex wife|ex boyfriend|"
        r"ex girlfriend|ex partner|other half|hubby|dad|father|stepdad|stepfather|mom|"
        r"mum|mother|stepmom|stepmum|stepmother|brother|sister|roommate|"
        r"flatmate|landlord|boss|man|guy|lover)"
    ),
    # The people a bare "scared of ..." is about: a partner, not "my boss" or "my mother in law".
    "PARTNER": r"<PARTNERBASE>(?![\w'])",
    "PARTNERBASE": (
        r"(?:(?:my|our|the|his|her|their|your) )?(?:partner|husband|wife|boyfriend|"
        r"girlfriend|bf|gf|spouse|fiance|fiancee|ex|ex husband|ex wife|ex boyfriend|"
        r"ex girlfriend|ex partner|other half|hubby|lover)"
    ),
    "SUBJ": r"(?:he|she|they|he's|she's|they've|they're|he'd|she'd|they'd|<REL>)",
    # Words that may stand between a subject and its verb without changing the meaning.
    "FILL": (
        r"(?: (?:has|have|had|is|was|were|are|keeps|kept|started|starts|would|will|did|"
        r"does|just|actually|literally|again|sometimes|often|always|also|even|then|"
        r"finally|once|twice|repeatedly|really|nearly|almost|still|already|been|used to|"
        r"tried to|tries to|has started|got|gets|so|physically))"
    ),
    # Who was harmed.
    "OBJ": (
        r"(?:me|us|(?:my|our|the) (?:kids|children|son|daughter|baby|child|boy|girl))(?![\w'])"
    ),
    # "her" as a person, not as "her reaction": followed by a clause end or a small word.
    "HER": (
        r"her(?= \.|$| (?:and|when|because|again|so|but|if|or|now|sometimes|lately|"
        r"anymore|too|in|with|while|after|before|then|every|all|most|since|right|"
        r"more|even|i|he|she|we|they|a|the|really|honestly|though|already|tonight|today)"
        r"(?![\w']))"
    ),
    # A simple negation just before the phrase ("did not", "never") cancels it.
    "NEG": r"(?<!not )(?<!never )(?<!no )",
    "END": r"(?![\w'])",
    "FEARFUL": r"(?:scared|afraid|frightened|terrified|fearful|petrified)",
}


def _expand(pattern: str) -> str:
    for _ in range(4):  # pieces refer to pieces
        pattern = re.sub(r"<([A-Z_]+)>", lambda m: _PIECES[m.group(1)], pattern)
    return pattern


_VIOLENCE = [
    # Verbs that are often harmless need a person as subject: "he hit me", not "it hit me".
    r"<SUBJ><FILL>{0,3} (?:"
    r"<NEG>(?:hit|hits|hitting) <OBJ>"
    r"(?! up<END>| with (?:(?:the|a|an|his|her|their|some|that|this|more|another|bad|great|"
    r"good|terrible|awful|cheesy|dad|his best|her best) ){0,3}(?:news|questions?|jokes?|puns?|"
    r"ideas?|surprises?|compliments?|pillows?|snowballs?|lines?|facts?|truth|reality|bill|"
    r"logic|charm|requests?|comments?|stor(?:y|ies)|that|this|it)<END>)"
    r"|<NEG>(?:beat|beats|beating|beaten) <OBJ>"
    r"(?! (?:at|to|by|home|there|first|fair|easily|hands down|every (?:single )?time|on points|"
    r"\d|in(?! front))<END>"
    r"| (?:[\w']+ ){0,4}(?:at|in) (?:chess|cards|tennis|golf|poker|scrabble|monopoly|pool|"
    r"darts|squash|badminton|table tennis|ping pong|games?|board games|video games|"
    r"mario kart|fifa|running|swimming|trivia|quiz|wordle|sudoku|crosswords?|football|"
    r"basketball|arguments|everything|the (?:game|race|quiz))<END>)"
    r"|<NEG>(?:kick|kicks|kicked|kicking) <OBJ>"
    r"(?! (?:out|off|under|awake|by accident|accidentally|in (?:his|her|their|my) sleep)<END>)"
    r"|<NEG>(?:hurt|hurts|hurting|harmed|harms|harming) <OBJ> physically"
    r"|(?:is |was |gets |got |becomes |became |can be |can get |turns |turned |been )?"
    r"(?:so |very |really |physically |sexually |emotionally |verbally )?(?:abusive|violent)<END>"
    r")",
    # Verbs that are rarely harmless.
    r"<NEG>(?:punch|punched|punches|punching) <OBJ>"
    r"(?! (?:on|in) the (?:arm|shoulder)(?: \.)? (?:playfully|jokingly|as a joke|for fun))",
    r"<NEG>(?:slap|slapped|slaps|slapping) <OBJ>"
    r"(?! (?:on the (?:back|shoulder|butt|bum|bottom|ass|arm)|a high five))",
    r"<NEG>(?<!going to )(?:choke|choked|chokes|choking|strangle|strangled|strangles|strangling|"
    r"throttled|smothered|suffocated) <OBJ>(?! up)",
    r"(?:beat|beats|beating|beaten) (?:<OBJ> up|up <OBJ>|the (?:shit|crap|hell|living "
    r"daylights) out of <OBJ>)",
    r"<NEG>(?:push|pushed|pushes|pushing|shove|shoved|shoves|shoving) <OBJ>"
    r"(?! (?:to(?! the (?:ground|floor|wall))|towards?|into \w+ing|forward|further|"
    r"beyond|past|through|away|aside|out of (?:my|our|the) comfort|too|harder|on the swing|"
    r"over the edge|ahead|along)<END>)",
    r"(?:stabbed|stabs|stabbing|stab) <OBJ>(?! in the back)",
    r"(?:shot|shoots|shooting) at <OBJ>",
    r"(?:physically|sexually) (?:attacked|assaulted|abused|hurt|hurts|harmed|abuses|abusing) "
    r"<OBJ>",
    r"<NEG>(?:assaulted|assaults|raped|rapes|raping|molested|molests|molesting|abused|"
    r"abuses|abusing) <OBJ>",
    r"domestic (?:violence|abuse)",
    r"abusive (?:relationship|marriage|husband|wife|partner|boyfriend|girlfriend|ex|home)",
    r"(?:his|her|their|both) hands? (?:around|round|on) (?:my|our) (?:neck|throat)",
    r"(?:grabbed|grabs|grabbing|pulled|pulls|dragged|drags|held|holds) (?:<OBJ> )?by (?:the|my) "
    r"(?:throat|neck|hair)",
    r"(?:threw|throws|throwing|thrown) (?:things|stuff|objects|plates|glasses|bottles|chairs|"
    r"mugs|knives|(?:a|the|his|her) (?:plate|glass|bottle|knife|chair|mug|cup|phone|shoe|"
    r"lamp|vase|remote)) at <OBJ>",
    r"(?:pulled|pulls|pointed|points|held|holds|waved|aimed|put) (?:a|his|her|their|the) "
    r"(?:knife|gun|weapon|pistol|rifle|blade) (?:on|at|to) (?:<OBJ>|my|our)",
    r"(?:knife|gun|blade) (?:to|against) (?:my|our) (?:throat|head|neck|chest)",
    r"<NEG>(?:threaten|threatens|threatened|threatening) <OBJ>"
    r"(?! with (?:divorce|leaving|a divorce|a breakup|breaking up|a lawyer)<END>)",
    r"(?:threaten|threatens|threatened|threatening) (?:<OBJ> )?with (?:a|his|her|the|their) "
    r"(?:knife|gun|weapon|belt|bat)",
    r"(?:threaten|threatens|threatened|threatening) to (?:kill|hurt|harm|beat|hit|stab|shoot|"
    r"murder|strangle|choke|attack)(?! (?:himself|herself|themselves|themself|myself))<END>",
    r"(?:said|says|told me|tells me|swore|swears|promised|warned me|texted me)(?: that)? "
    r"(?:he|she|they)(?:'d|'ll|'s going to| would| will| is going to| was going to|"
    r" are going to| were going to)? (?:kill|hurt|hit|beat|harm|stab|shoot|strangle|choke) "
    r"<OBJ>",
    r"(?:tried|tries|trying) to (?:kill|choke|strangle|suffocate|smother|drown|stab|shoot|"
    r"run over|poison) <OBJ>",
    r"(?:get|got|gets|getting|was|were|been|being|am|is|are) (?:hit|beaten|beaten up|beat up|"
    r"punched|slapped|kicked|choked|strangled|pushed|shoved|attacked|assaulted|raped|"
    r"stabbed|abused|threatened) by (?:him|<HER>|them|<REL>)(?! at)",
    r"(?:gave|gives|give) (?:me|us) (?:a black eye|black eyes|bruises|a bruise)",
    r"(?:left|leaves) (?:me with )?(?:bruises|marks|a bruise) on (?:me|my)",
]

_FEAR = [
    r"<NEG><FEARFUL> of (?:him|<HER>|<PARTNER>)"
    r"(?! (?!during|something|nothing|everything|morning|evening)\w+ing<END>)",
    r"<FEARFUL> of (?:him|her|<PARTNER>) (?:hitting|hurting|beating|killing|attacking|choking|"
    r"strangling|finding) (?:me|us|<OBJ>)",
    r"<NEG><FEARFUL> of (?:his|her|their|<PARTNERBASE>'s) (?:temper|anger|rage|violence|fists?|"
    r"outbursts?|threats)",
    r"(?:i|we) (?:fear|dread) (?:him|<HER>|<PARTNER>(?= \.|$| (?:and|when|because|so|but)<END>))",
    r"(?:live|lives|living|lived) in (?:constant |total )?fear<END>",
    r"(?:<FEARFUL>|fear|fearing|worried|scared) for (?:my|our) (?:life|lives|safety)<END>"
    r"(?! savings)",
    r"for (?:my|our|the) (?:kids|children)(?:'s)? (?:safety|lives)<END>",
    r"(?:not|never|no longer) (?:feel |feeling |felt )?safe (?:at home|in (?:my|our|this|the) "
    r"(?:own )?(?:home|house|flat|apartment|bed)|with (?:him|<HER>|<REL>)|around (?:him|<HER>|"
    r"<REL>)|living with|when (?:he|she|they)(?:'s| is| are|'re)? (?:gets? |comes? )?"
    r"(?:home|drunk|drinking|angry|mad|here))",
    r"(?:i am|we are|we're|the kids are|my kids are|my children are) not safe"
    r"(?= \.|$| (?:here|anymore|at home|now|with|around|in (?:my|our|this|the) (?:home|house)))",
    r"(?:not|never|no longer) (?:feel |feeling )safe(?= \.|$| (?:anymore|here|at all|now))",
    r"unsafe (?:at home|in (?:my|our|this|the) (?:own )?(?:home|house|flat|apartment)|with "
    r"(?:him|<HER>|<REL>)|around (?:him|<HER>|<REL>))",
    r"(?:feel|feeling|felt) unsafe(?= \.|$| (?:anymore|here|now|at all))",
    r"<FEARFUL> (?:to|of) go(?:ing)? (?:back )?home",
    r"(?:<FEARFUL>|worried|fear|i fear)(?: that)? (?:he|she|they|<REL>)(?:'ll|'d|'s going to|"
    r" will| would| might| may| could| is going to| are going to| will try to| might try to|"
    r" wants to| is trying to)? (?:hurt|kill|hit|harm|beat|attack|strangle|choke|stab|shoot) "
    r"<OBJ>",
    r"<FEARFUL> (?:that )?(?:he|she|they)(?:'ll| will| might| may| is going to|'s going to) "
    r"find (?:me|us)(?= \.|$| (?:here|again|if|and))",
    r"(?:<FEARFUL>|worried|terrified) (?:of )?what (?:he|she|they|<REL>)(?:'ll|'d|'s going to|"
    r" might| will| would| could| may| is going to| are going to) do<END>(?! (?:with|about))",
    r"(?:stalk|stalks|stalked|stalking) (?:me|us)<END>",
    r"(?:will not|would not|does not|did not|refuses to|refused to) let me (?:leave|go out|out)"
    r"(?= \.|$| (?:the house|home|the room|the flat|the apartment|of the house|alone))",
    r"(?:locked|locks|locking) (?:me|us) (?:in|inside)<END>",
    r"(?:hiding|hide|hid) from (?:him|<HER>|<PARTNER>)",
]

_SELF_HARM = [
    r"<NEG>(?:want|wants|wanted|wanting|would like|i'd like|ready|trying|tried|"
    r"planning|plan|deserve) to die<END>"
    r"(?! (?:of (?:embarrassment|shame|laughter|cringe|old age|boredom|hunger|thirst)|"
    r"laughing|from "
    r"(?:embarrassment|shame|laughter)|old|together|happy|in (?:your|his|her|their|each "
    r"other's|my) arms|next to|with you|beside|an old|of happiness|(?:my|her|his|their|"
    r"your) hair))",
    r"(?:wish|wished) (?:i|he|she) (?:was|were|could be|'d be|would be) dead",
    r"(?:wish|wished) (?:i|he|she) (?:could|would|'d) (?:just )?die<END>",
    r"(?:wish|wished) (?:i|he|she) (?:had|'d|was|were) never (?:been )?born",
    r"(?:kill|kills|killed|killing|hang|hanged|hanging|hung|shoot|shot) (?:myself|himself|"
    r"herself|themselves|themself)(?! (?:laughing|trying|working|at work|for work|over work|"
    r"with work|in the foot|to (?:finish|get|make|meet|keep|please))<END>)",
    r"(?:end|ends|ending|ended|take|takes|taking|took) (?:my|his|her|their) (?:own )?life"
    r"<END>(?! (?:savings|insurance|story|back|in (?:my|his|her|their) (?:own )?hands)<END>)",
    r"(?:end|ending|ended) it all",
    r"(?:hurt|hurts|hurting|harm|harms|harmed|harming|cut|cuts|cutting|burn|burns|burned|"
    r"burnt|burning|injure|injured|injuring) (?:myself|himself|herself|themselves|themself)"
    r"(?! (?:at|in|playing|lifting|running|while|doing|training|working|falling|skiing|"
    r"cooking|chopping|shaving|by accident|accidentally|badly at|off|out|slightly|a bit|"
    r"some|a (?:slice|piece|break)|free|on(?! purpose))<END>)",
    r"self ?(?:harm|harms|harmed|harming|injury|injure|injured|injuring|mutilation|"
    r"mutilate|mutilating)<END>",
    r"suicid\w*<END>(?! (?:squad|bomber|bombers|bombing|mission|doors?|prevention|awareness|"
    r"hotline|helpline|line|rates?|statistics))",
    r"(?:no|any|nothing left to|nothing to|no more) reason (?:left )?to (?:live|go on)<END>",
    r"nothing (?:left )?to live for",
    r"no point (?:in )?(?:living|going on|being alive|being here)",
    r"(?:not|isn't|is not|never) worth living",
    r"better off (?:dead|without me)",
    r"(?:do not|does not|did not|no longer) (?:want|wants|wanted) to (?:be alive|exist|"
    r"live anymore|wake up(?= \.|$| (?:anymore|again|ever))|be here anymore|go on living|"
    r"go on anymore)",
    r"can not go on living<END>",
    r"can not go on anymore(?= \.|$)",
    r"(?:overdose|overdosed|overdosing|od'd)(?! on (?:sugar|chocolate|caffeine|coffee|cake|"
    r"candy|sweets|netflix|tv|carbs|cheese))<END>",
    r"(?:took|take|taking|swallowed) (?:all|all of|a bunch of|too many|a lot of|a handful of|"
    r"the whole bottle of) (?:my |the |his |her )?(?:pills|tablets|meds|medication|"
    r"sleeping pills|painkillers)",
    r"slit (?:my|his|her|their) wrists?",
    r"jump(?:ing|ed)? (?:off|from) (?:a|the) (?:bridge|roof|building|balcony|tower)",
    r"(?:thinking|think|thought|thoughts) (?:about|of) (?:dying|death|not being here|not "
    r"waking up|ending it)<END>",
]


# Phrases added with the labelled corpus (bot/data/corpora/safety.en.tsv): being abused,
# forced sex, broken bones, injuries from a person, control, and the indirect ways people
# speak of suicide ("I wrote a goodbye letter", "unalive").
_VIOLENCE += [
    r"(?:i am|am|i have been|been|being|getting|keep getting) (?:being )?(?:abused|raped|"
    r"assaulted|molested|beaten|hurt|attacked|strangled|choked)(?= \.|$| at home| by (?:him|"
    r"her|<REL>)| again| every)",
    r"<SUBJ><FILL>{0,3} (?:forces|forced|forcing|makes|made|pressures|pressured|pressuring) "
    r"<OBJ> (?:to )?(?:have sex|sleep with|do sexual|into sex|perform)",
    r"(?:forces|forced|forcing) (?:himself|herself|themselves) on <OBJ>",
    r"<SUBJ><FILL>{0,3} (?:touches|touched|grabs|grabbed|gropes|groped) <OBJ>(?: [\w']+){0,3} "
    r"(?:when|after|even though|although) i (?:say|said|tell|told) (?:no|him|her|to stop)",
    r"(?:will not|does not|did not|would not|never) stops? (?:even )?when i (?:say|said|tell "
    r"him|tell her|beg)",
    r"<SUBJ><FILL>{0,3} (?:broke|broken|fractured|cracked|dislocated) (?:my|two of my|one of "
    r"my|some of my|our son's|our daughter's) (?:[\w']+ )?(?:arm|arms|nose|ribs?|wrist|jaw|"
    r"fingers?|leg|hand|collarbone|tooth|teeth|cheekbone|skull)<END>",
    r"(?:use|used|using|pointed|points|pointing|waved|held|hold) (?:it|a gun|the gun|a knife|"
    r"the knife|his gun|her gun|his knife|her knife) (?:on|at|to) (?:me|us|my (?:head|throat|"
    r"kids|children))<END>",
    r"<SUBJ><FILL>{0,3} <NEG>(?<!will )(?<!would )(?<!to )(?:hurt|hurts|hurting) <OBJ>"
    r"(?= \.|$| badly| physically| again|"
    r" every| at home| so badly| a lot)",
    r"(?:bruises|bruised|marks|cuts|burns|scars) (?:[\w']+ ){0,5}(?:from|because of) (?:him|"
    r"her|<REL>)",
    r"(?:hospital|a and e|er|emergency room)(?: [\w']+){0,2} (?:because of|after|thanks to) "
    r"(?:him|her|<REL>)",
    r"<SUBJ><FILL>{0,3} <NEG>(?:burned|burnt|burns|bit|bites|scratched|scratches|spat on|"
    r"spits on|pinned|pins|smashed|smashes|slammed|slams|attacked|attacks|tied|ties) (?:me|us|"
    r"my head|my face|my hand|<OBJ>)<END>",
    r"<SUBJ><FILL>{0,3} [\w']+ and <NEG>(?:hit|hits|kicked|punched|slapped|choked) <OBJ>",
    r"tried to (?:run <OBJ> over|run over <OBJ>|drown <OBJ>|kill <OBJ>|strangle <OBJ>|"
    r"poison <OBJ>)",
    r"<SUBJ><FILL>{0,3} (?:forced|forces|dragged|drags|shoved|pushed) <OBJ> into (?:the|his|"
    r"her|a) (?:car|room|van|house|bedroom)",
]
_FEAR += [
    r"(?:will not|does not|won't|never) let (?:me|us) (?:leave|go out|see (?:my|our) "
    r"(?:friends|family)|have (?:my|a) phone)",
    r"(?:keeps|kept|is|has been|been|started) (?:following|watching|tracking) (?:me|us)<END>",
    r"(?:watches|checks|tracks|monitors|reads) (?:everything i do|my phone|my messages|where "
    r"i go|my location)",
    r"(?:had to|have to|have been|am|was) hid(?:e|ing) (?:in|from|under)<END>",
    r"(?:and|but|so) i am (?:so |really |very )?<FEARFUL>(?= \.|$)",
    r"(?:(?:he|she|they|<REL>) (?:is going to|are going to|is gonna|will|might|may|could|"
    r"would|is about to)|(?:he's|she's|they're) (?:going to|gonna|about to)) (?:hurt|hit|"
    r"attack|beat) (?:me|us|<OBJ>)<END>",
    r"<FEARFUL> to (?:leave|tell (?:him|her) i (?:want to|am) leav\w*)",
    r"(?:he|she|<REL>) (?:scares|frightens|terrifies) (?:me|us|the kids)<END>",
    r"(?:i am|we are|am|are|my kids are|my children are) in danger(?! of)<END>",
]
_SELF_HARM += [
    r"(?:wrote|written|writing|write|left|leaving) (?:a |my |the )?(?:goodbye|farewell|"
    r"suicide) (?:letter|letters|note|notes)(?! to (?:our|my|the) (?:old |former )?(?:house|"
    r"home|flat|apartment|job|office|city|town|school|team|colleagues?|students|class|"
    r"neighbours|neighbors)<END>)",
    r"(?:sewerslide|sewer slide|self delete|self deleting|unaliv\w*|un aliv\w*)",
    r"(?<![\d] )(?:kms|kys)<END>",
    r"(?:saving|saved|hoarding|stockpiling|collecting) (?:up )?(?:my |the |some |all my )?"
    r"(?:pills|tablets|meds|medication|painkillers)",
    r"(?:planned|planning|plan) (?:how|when|where) (?:i would|i'd|i will|i am going to|to) "
    r"(?:do it|end it|die|kill)",
    r"disappear (?:forever|for good|and never come back|permanently)",
    r"(?:sleep|go to sleep|fall asleep) and (?:never|not) wake up",
    r"(?:giving|gave|give) away (?:all )?(?:my|all my) (?:things|stuff|belongings|possessions)",
    r"(?:this is|here is|it is) my (?:last|final) (?:message|goodbye|letter|text)(?! (?:tonight|"
    r"today|for (?:today|tonight|now)|before))",
    r"saying goodbye to (?:everyone|everybody|you all|all of you|the world)",
    r"(?:bought|got|have|found|tied) a (?:rope|noose)(?! (?:for|to) )",
    r"noose",
    r"(?:standing|stood|sitting|am) on (?:the|a) (?:bridge|ledge|roof|railway|tracks)"
    r"(?= \.|$| now| right now| again)",
    r"(?:no|do not see a|do not see any|can not see a|can not see any) way out(?! of)<END>",
    r"(?:easier|better) (?:for everyone |for you )?if i (?:was|were|am) (?:gone|dead|not here|"
    r"not around)",
    r"i am (?:just )?a burden to (?:everyone|everybody|you all|my family)",
    r"(?:not|will not) (?:going to )?be (?:around|here) (?:much|for much) longer",
    r"(?:feel like|want to|going to|planning to|ready to) end(?:ing)? it(?: all)?(?= \.|$| "
    r"tonight| today| now| soon| for good)",
    r"(?:nobody|no one) (?:would|will) (?:miss|notice|care)(?: about)? (?:me|if i)(?: [\w']+)"
    r"{0,3} (?:died|was gone|were gone|was dead|disappeared|killed myself)",
    r"done with (?:life|living|this world)(?! admin)<END>",
]


# General shapes (added with the held-out set, written from the categories, not from
# its lines): a person doing one of the common acts of violence to "me", "us" or the
# children; a threat to kill or hurt; fear of a person or of going home; hiding from
# someone; being locked in; harming or killing oneself with any of the usual verbs or
# means; "better off without me"; "no point in living"; "never wake up".
_GENERAL_VIOLENCE = [
    r"<SUBJ><FILL>{0,3} <NEG>(?:choked|chokes|choking|strangled|strangles|strangling|"
    r"stabbed|stabs|slammed|slams|shoved|shoves|grabbed|grabs|burned|burnt|burns|kicked|"
    r"kicks|punched|punches|slapped|slaps|raped|rapes|attacked|attacks|bit|bites|dragged|"
    r"drags|smothered|suffocated|pinned|throttled|headbutted|whipped|"
    r"scalded|cut|stamped on|spat on|threw) (?:me|us|(?:my|our|the) (?:kids|children|son|"
    r"daughter|baby|head|face|neck|arm|arms|hand|hands|body|stomach|belly|back|leg)"
    r"|(?:my|our|the) (?:kids|children)|him|her)<END>"
    r"(?! (?:at|on points|to (?:it|the punch|the finish|the post))<END>)"
    r"(?! (?:in the back|under the table)<END>)"
    r"(?! (?:[\w'.]+ ){0,4}(?:playful\w*|as a joke|jokingly|for fun|by accident|accidentally|"
    r"in (?:his|her|their|my) sleep|on the (?:back|shoulder)|with (?:a|an|the|his|her) "
    r"(?:pun|joke|pillow|snowball|question|compliment)))",
    r"<SUBJ><FILL>{0,3} (?:pushed|pushes|shoved|threw|throws|knocked) (?:me|us|my \w+) "
    r"(?:down|into|against|off|onto|over|out of|across|to the (?:ground|floor))<END>",
    r"<SUBJ><FILL>{0,3} (?:beats|beat|beating) (?:me|us|the kids|the children) up<END>",
    r"<SUBJ><FILL>{0,3} (?:threatened|threatens|threatening) (?:me|us|to (?:kill|shoot|"
    r"stab|hurt|strangle|hit|beat|burn|choke)) ",
    r"(?:bruises|marks|burns|cuts) (?:all )?(?:over|on) (?:me|my \w+)? ?(?:[\w']+ ){0,3}"
    r"(?:from|where) (?:he|she|him|her|<PARTNER>)<END>",
]
_GENERAL_VIOLENCE += [
    # Second cycle: the subject said once, the acts after it ("... and then hit me"), tries,
    # things thrown at someone, being held down, sexual violence said indirectly.
    r"(?:and|then) (?:then )?(?:hit|punched|slapped|kicked|choked|strangled|shoved|stabbed|"
    r"bit|burned|grabbed|beat) (?:me|us|my \w+)<END>(?! (?:at|up on)<END>)",
    r"<SUBJ><FILL>{0,3} (?:tried|tries|trying) to (?:drown|strangle|choke|suffocate|smother|"
    r"kill|stab|poison|run me over|push me|hurt me|burn)",
    r"<SUBJ><FILL>{0,3} (?:throws|threw|throwing|hurls|hurled) (?:[\w']+ ){0,2}(?:at|on) "
    r"(?:me|us|my head|the kids|the children)<END>",
    r"<SUBJ><FILL>{0,3} (?:held|holds|pinned|pins) me (?:down|against|to the)",
    r"<SUBJ><FILL>{0,3} (?:forced|forces|forcing) (?:himself|herself|themselves) on me",
    r"<SUBJ><FILL>{0,3} (?:smacks|smacked|slaps|slapped|knocks|knocked|pushes|pushed) "
    r"(?:me|us|(?:my|our) (?:son|daughter|kids|children|boy|girl)) (?:around|about)<END>",
]
_GENERAL_FEAR = [
    # Second cycle: what he might do, not being able to leave, being found.
    r"<FEARFUL> (?:of )?what (?:he|she|he's|she's)(?: will| would| might| is going to| could)? "
    r"(?:do|be capable of)",
    r"(?:can not|could not|not able to) (?:leave|get out|get away|escape)(?: \.)? (?:because )?"
    r"(?:he|she|<PARTNER>) (?:took|has|hid|keeps|locked|will|would|says|said)",
    r"(?:he|she) (?:took|takes|has taken|hid|hides) (?:my|all my) (?:passport|keys|phone|money|"
    r"car keys|documents|bank card)",
    r"(?:nobody|no one) (?:would|will|could) (?:ever )?find (?:me|my body|us)",
    r"<FEARFUL> (?:that )?(?:he|she|he's|she's|<PARTNER>)(?: is| will| might| could| is "
    r"going to| wants to| would)? (?:[\w']+ )?(?:kill|hurt|hit|beat|attack|strangle|stab|"
    r"shoot|find|come after|take the kids)",
    r"<FEARFUL> (?:to go|of going|to come|of coming|to be) (?:back )?home<END>",
    r"(?:said|says|swore|told me|threatened|threatens)(?: that)? (?:he|she)(?: would| will|'d| "
    r"is going to)? (?:kill|hurt|shoot|stab|strangle|burn|beat) (?:me|us|the kids|the children)",
    r"(?:threatened|threatens|threatening) to (?:kill|shoot|stab|hurt|strangle|burn|beat|"
    r"choke) (?:me|us|the kids|the children|my)",
    r"hiding (?:[\w']+ ){0,4}(?:from (?:him|her|<PARTNER>)|because (?:he|she))",
    r"(?:do not|no longer|never) feel safe (?:in|at) (?:my |our )?(?:own )?(?:home|house|"
    r"flat|apartment|bed|place)|(?:do not|no longer) feel safe (?:with|around) (?:him|her|"
    r"<PARTNER>)",
    r"<SUBJ><FILL>{0,2} (?:locks|locked|locking) me (?:in|up)<END>",
    r"(?:gun|knife|weapon) (?:[\w']+ ){0,6}(?:for me|at me|to my|threaten)",
    r"<SUBJ> (?:follows|followed|tracks|stalks) me (?:everywhere|home|to work)",
]
_GENERAL_SELF_HARM = [
    # Second cycle: tired of living, rather not exist, farewell letters, means.
    r"(?:tired|sick) of (?:being alive|living|life|existing|being here)(?= \.|$| anymore)",
    r"(?:would|'d) rather (?:be dead|not exist|not be alive|not be here|die)(?= \.|$)",
    r"(?:letters?|notes?|messages?) (?:to|for) (?:my|the) (?:kids|children|family|wife|"
    r"husband|parents|mum|mom|dad|partner) in case i (?:am|was|were|'m) (?:gone|not here|dead)",
    r"(?:bought|buying|got|have) (?:a )?(?:rope|noose)(?= \.|$| today| tonight)",
    r"(?:drive|driving|crash|crashing|steer|steering) (?:my car |the car )?(?:into|off) (?:a|the) "
    r"(?:tree|wall|bridge|cliff|truck|lorry|river|oncoming)",
    r"(?:burning|scratching|hitting|punching|starving|cutting) (?:my|myself)(?: \w+)?"
    r"(?: again)?<END>(?! (?:on|with|in|while|by)<END>)",
    r"(?:swallow|take|taking|swallowing) everything in (?:the|my) (?:medicine|bathroom)",
    r"(?:kill|killing|hurt|hurting|harm|harming|hang|hanging|drown|drowning|poison|"
    r"poisoning|starve|starving|burn|burning|cut|cutting|shoot|shooting) myself"
    r"(?! (?:shaving|cooking|chopping|on|while|with the|by accident|accidentally|laughing|"
    r"doing|at|for|some slack|a break|short|off)<END>)",
    r"(?:been |started |start |keep )cutting(?: myself)?(?: again)?<END>",
    r"(?:take|taking|took|swallow|swallowing|swallowed) (?:all|every one|the whole "
    r"(?:bottle|pack|box)) (?:of )?(?:my |the |those |these )?(?:pills|tablets|meds|medication|"
    r"sleeping pills|painkillers)",
    r"better off (?:if i (?:was|were|am) (?:dead|gone|not (?:here|around|alive))|without me)",
    r"(?:no|not see the|not see any|not see a) (?:point|reason|purpose) (?:in |of |to |for "
    r"me to )?(?:living|live|being alive|be alive|going on|go on|existing|exist|stay alive|"
    r"staying alive|keep going)",
    r"(?:planning|plan|decided|made up my mind|going) to end (?:it|my life|it all|things)"
    r"(?! (?:with|between)<END>)",
    r"(?:never|not) (?:to )?wake up(?: again)?<END>",
    r"disappear (?:for good|forever|for ever|permanently)",
    r"(?:jump|jumping|throw myself) (?:off|from|in front of) (?:the|a) (?:bridge|roof|"
    r"building|cliff|balcony|train|tracks|car|lorry|truck)",
    r"(?:wish|want) (?:i (?:was|were) |to be )dead",
    r"(?:do not|never) want to (?:live|be alive|exist|be here)(?: anymore| any more)?<END>",
    r"(?:no|any) reason (?:for me )?to (?:be alive|live|exist|stay alive|keep going)",
]


def _stems(spec: str) -> tuple[str, ...]:
    return tuple(spec.split("|"))


# Every match of a category's phrases contains one of its stems, so only the text around
# a stem needs searching. Stems are plain substrings of the normalised text.
_STEMS: dict[Category, tuple[str, ...]] = {
    "violence": _stems(
        "hit|beat|kick|physically|sexually|abus|violent|punch|slap|chok|strangl|throttl|"
        "smother|suffocat|push|shov|stab|shot|shoot|assault|rape|raping|molest|domestic|"
        "neck|throat|hair|threw|throw|knife|gun|weapon|pistol|rifle|blade|threat|kill|"
        "hurt|harm|drown|run over|poison|attack|black eye|bruise|marks|beaten|sex|forc|"
        "touch|grab|grop|stop|broke|fractur|crack|dislocat|use|point|wav|held|hold|cuts|"
        "burn|scar|hospital| er | a and e|emergency|bit|scratch|spat|spit|pinned|pins|smash|"
        "slam|tied|ties|tried to|drag|let|bit|burn|cut|whip|scald|stamp|headbutt|knock|"
        "hurl|smack|tries|trying|held|pins|forc"
    ),
    "fear": _stems(
        "scared|afraid|frightened|terrified|fear|petrified|dread|worried|safe|lives|"
        "stalk|let me|lock|hid|follow|watch|track|check|monitor|reads|hurt|hit|attack|"
        "beat|scares|frightens|terrifies|danger|threat|said|says|swore|told|gun|knife|"
        "weapon|stalks|tracks|follow|leave|get out|get away|escape|took|takes|hid|find"
    ),
    "self_harm": _stems(
        "die|dead|born|self|selves|life|it all|suicid|reason|live|point|worth|better off|"
        "want|go on|overdos|od'd|pill|tablet|meds|medication|painkiller|slit|jump|dying|"
        "death|being here|waking up|ending it|goodbye|farewell|sewer|delete|aliv|kms|kys|"
        "saving|saved|hoard|stockpil|collect|plan|disappear|sleep|giv|gave|last|final|rope|"
        "noose|bridge|ledge|roof|railway|tracks|way out|easier|better|burden|around|here|"
        "end|miss|notice|care|done with|myself|cutting|wake|dead|reason|point|purpose|"
        "jump|throw|tired|sick of|rather|letter|note|message|rope|noose|driv|crash|steer|"
        "burning|scratching|hitting|punching|starving|cutting|swallow|everything"
    ),
}
# How far a match (with what it looks at) can reach before and after its stem.
_REACH = 160
# With more stems than this in a text, searching all of it is quicker than windows.
_MAX_WINDOWS = 24


def _compile(patterns: list[str]) -> re.Pattern[str]:
    # Matches start at the space before a word: searching for a literal space first is
    # much faster than trying every position. The text searched starts with a space.
    return re.compile(" (?:" + "|".join(f"(?:{_expand(p)})" for p in patterns) + ")")


_CHECKS: tuple[tuple[Category, re.Pattern[str]], ...] = (
    ("violence", _compile(_VIOLENCE + _GENERAL_VIOLENCE)),
    ("fear", _compile(_FEAR + _GENERAL_FEAR)),
    ("self_harm", _compile(_SELF_HARM + _GENERAL_SELF_HARM)),
)


def _windows(text: str, stems: tuple[str, ...]) -> list[tuple[int, int]]:
    """The merged stretches of `text` within reach of a stem, in order."""
    spans: list[tuple[int, int]] = []
    for stem in stems:
        at = text.find(stem)
        while at >= 0:
            if len(spans) == _MAX_WINDOWS:
                return [(0, len(text))]
            spans.append((max(0, at - _REACH), at + len(stem) + _REACH))
            at = text.find(stem, at + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _found(pattern: re.Pattern[str], text: str, stems: tuple[str, ...]) -> bool:
    for start, end in _windows(text, stems):
        at = start
        while (m := pattern.search(text, at, end)) is not None:
            # A window cuts the text: confirm on the whole text (lookaheads, "$").
            if end >= len(text) or pattern.match(text, m.start()):
                return True
            at = m.start() + 1
    return False


# German phrases, on the same normalised text (accents dropped: "schlägt" -> "schlagt").
_DE_PIECES = {
    "SUBJ": (
        r"(?:er|sie|(?:mein|meine) (?:mann|frau|freund|freundin|partner|partnerin|ex|exmann|"
        r"exfrau|vater|mutter))"
    ),
    "WHOM": r"(?:mich|uns|die kinder|meine kinder|meinen sohn|meine tochter)",
    "HURT_PAST": (
        r"(?:geschlagen|gewurgt|getreten|verprugelt|vergewaltigt|misshandelt|missbraucht|"
        r"bedroht|gestossen|hinuntergestossen|runtergestossen|angegriffen|verletzt|gebissen|"
        r"verbrannt|erwurgt)"
    ),
}
_VIOLENCE_DE = [
    r"<SUBJ> (?:hat|hatte) <WHOM> (?:(?!beim |im |bei |in |nie |nicht |noch )[\w']+ ){0,3}?"
    r"<HURT_PAST><END>",
    r"<SUBJ> (?:schlagt|wurgt|tritt|verprugelt|vergewaltigt|misshandelt|missbraucht|bedroht|"
    r"stosst|verletzt) <WHOM>(?! (?:beim|im|bei|in|nie|nicht) )",
    r"<SUBJ> (?:hat|hatte) mir (?:den|die|das|ins|in|meinen|meine) (?:[\w']+ )?(?:arm|nase|"
    r"rippen?|handgelenk|kiefer|finger|bein|hand|zahn|zahne|gesicht)(?: [\w']+)? (?:gebrochen|"
    r"geschlagen|ausgeschlagen|verletzt)<END>",
    r"ich werde (?:[\w']+ ){0,2}(?:geschlagen|misshandelt|missbraucht|vergewaltigt|bedroht|"
    r"verprugelt)<END>",
    r"(?:zwingt|zwang|gezwungen|drangt|notigt|genotigt) mich (?:[\w']+ )?(?:zum sex|zu sex|sex|"
    r"mit ihm zu schlafen)",
    r"fasst mich an (?:\. )?(?:obwohl|wenn|auch wenn) ich (?:nein|stopp)",
    r"gedroht (?:\. )?mich (?:umzubringen|zu toten|zu schlagen)",
    r"<SUBJ> (?:tut|tat|hat) (?:mir|den kindern|meinen kindern|uns) (?:[\w']+ )?weh(?:getan)?",
    r"(?:ist|wird|war) (?:[\w']+ )?gewalttatig|gewalttatigen? (?:beziehung|ehe|partner\w*|mann)"
    r"|hausliche gewalt|blaue flecken (?:[\w']+ ){0,2}von (?:ihm|ihr)",
    r"an den haaren (?:gezogen|gerissen|gepackt)",
]
_FEAR_DE = [
    r"(?<!keine )angst vor (?:ihm|ihr|meinem (?:mann|freund|partner|ex)|meiner (?:frau|"
    r"freundin|partnerin|ex))<END>",
    r"fuhle mich (?:[\w']+ ){0,3}nicht (?:mehr )?sicher",
    r"angst um mein leben|angst (?:\. )?dass (?:er|sie) mich (?:umbringt|totet|schlagt|"
    r"verletzt)|angst (?:\. )?dass (?:er|sie) (?:den|meinen) kindern (?:[\w']+ )?(?:antut|"
    r"wehtut|weh tut)",
    r"angst (?:\. )?nach hause zu gehen",
    r"(?:er|sie|mein ex|meine ex) verfolgt mich|verstecke mich vor (?:ihm|ihr)|lasst mich "
    r"nicht (?:aus dem haus|raus|gehen|weg)|ich bin in gefahr|kontrolliert mein handy",
]
_SELF_HARM_DE = [
    r"(?:will|mochte|wurde am liebsten) (?:[\w']+ )?(?:nicht mehr (?:leben|aufwachen|da sein)|"
    r"sterben|tot sein)<END>",
    r"mich umbringen|mich (?:selbst )?toten|mir das leben nehmen|selbstmord|"
    r"suizid(?!praven)\w*|ritze mich|(?:mich|mir) (?:wieder )?selbst (?:verletzt|verletze|weh)"
    r"|ohne mich besser dran|keinen sinn mehr|zu viele tabletten|allem ein ende|"
    r"sammle (?:meine )?tabletten|unaliv\w*|lieber tot",
    r"abschiedsbriefe?(?! an (?:unsere|meine|die) (?:alte |fruhere )?(?:wohnung|haus|stelle|"
    r"firma|schule|kollegen|kollegin))",
    r"meine letzte nachricht(?! fur heute| heute)",
]


# General German shapes, as for English (accents dropped, "ß" -> "ss").
_GENERAL_VIOLENCE_DE = [
    r"<SUBJ> (?:hat|hatte) (?:mir|mich|uns|die kinder|meine kinder) (?:(?!beim |im |bei |in "
    r"|nie |nicht |noch |aus versehen )[\w']+ ){0,4}?(?:gewurgt|erwurgt|gestossen|"
    r"geschubst|eingestochen|niedergestochen|erstochen|verprugelt|vergewaltigt|getreten|"
    r"gebrochen|verbrannt|verbruht|gefesselt|gebissen|gepackt)<END>",
    r"(?:auf|mit (?:einem|dem) messer auf) (?:mich|uns) eingestochen",
    r"<SUBJ> (?:schlagt|tritt|wurgt|verprugelt|prugelt|schubst|stosst|beisst|fesselt) "
    r"(?:[\w']+ )?(?:mich|uns|die kinder|meine kinder|unsere kinder|unseren sohn|unsere "
    r"tochter)<END>(?! (?:beim|im|bei|in|aus versehen)<END>)",
    r"(?:zwingt|zwang|gezwungen) mich (?:[\w']+ ){0,2}(?:zum|zu) (?:sex|geschlechtsverkehr)",
    r"blaue flecken (?:[\w']+ ){0,3}(?:von (?:ihm|ihr|meinem|meiner)|weil (?:er|sie))",
    r"blaue flecken (?:uberall )?von (?:ihm|ihr)",
    # Second cycle.
    r"<SUBJ> (?:wirft|warf|schmeisst|schmiss) (?:[\w']+ ){0,2}(?:nach|auf) (?:mir|mich|uns|"
    r"die kinder)",
    r"<SUBJ> (?:hat|hatte) (?:mich|uns) (?:[\w']+ ){0,2}(?:festgehalten|zu boden geworfen|"
    r"zu boden gestossen|geohrfeigt|gepackt|gegen die wand gedruckt)",
    r"<SUBJ> (?:ohrfeigt|schlagt|tritt|schubst) (?:mich|uns|(?:unseren|meinen) sohn|"
    r"(?:unsere|meine) (?:tochter|kinder))",
    r"(?:versucht|versuchte|wollte),? (?:\. )?mich (?:zu )?(?:ersticken|erwurgen|toten|"
    r"ertranken|umzubringen|zu ersticken|zu erwurgen)",
]
_GENERAL_FEAR_DE = [
    r"angst (?:\. )?(?:dass|das) (?:er|sie) (?:mich|uns|die kinder) (?:[\w']+ )?(?:umbringt|"
    r"totet|schlagt|verletzt|findet|umbringen)",
    r"traue? mich nicht (?:mehr )?(?:nach hause|heim)",
    r"(?:gedroht|droht|drohte) (?:\. )?(?:mich|mir|uns) (?:[\w']+ ){0,3}(?:umzubringen|"
    r"zu toten|wehzutun|weh zu tun|zu schlagen|abzustechen)",
    r"(?:droht|drohte|bedroht) (?:mir|mich|uns) (?:[\w']+ ){0,2}(?:damit|mit (?:dem|einem) "
    r"(?:messer|waffe|pistole))|(?:messer|waffe|pistole) (?:[\w']+ ){0,3}(?:droht|bedroht)",
    r"sperrt mich (?:[\w']+ ){0,4}ein<END>|(?:hat|hatte) mich (?:[\w']+ ){0,3}eingesperrt",
    r"verstecke mich (?:[\w']+ ){0,4}vor (?:ihm|ihr)",
    r"(?:nicht mehr|nicht) sicher (?:in|bei|zu) (?:meiner|unserer|mir|hause|ihm|ihr)"
    r"|in meiner (?:[\w']+ )?(?:wohnung|haus) nicht (?:mehr )?sicher",
]
_GENERAL_SELF_HARM_DE = [
    r"(?:mich|mir) (?:selbst )?(?:umbringen|umzubringen|toten|zu toten|das leben nehmen)",
    r"ritze (?:mich )?(?:wieder|schon wieder)|mich (?:wieder )?ritzen",
    r"(?:alle|ganzen|samtliche) (?:meine |meiner |die )?tabletten (?:[\w']+ )?(?:auf einmal|"
    r"zu nehmen|nehmen|schlucken)|tabletten auf einmal",
    r"ohne mich (?:waren|ware|sind|ist) (?:[\w']+ ){0,2}besser dran",
    r"(?:keinen|kein) sinn mehr (?:im|in meinem|zu) leben|keinen sinn mehr",
    r"nie (?:wieder|mehr) (?:aufwachen|aufzuwachen)",
    r"(?:will|mochte) nicht mehr (?:da sein|leben|hier sein|existieren|aufwachen)",
    r"(?:springe|springen|stutze mich|sturze mich) (?:[\w']+ ){0,2}von (?:der|dem|einer|einem) "
    r"(?:brucke|dach|hochhaus|balkon)",
    r"verletze mich (?:[\w']+ ){0,2}selbst|mich selbst (?:zu )?verletzen",
    r"wie ich mich umbringe|wie ich mich (?:[\w']+ ){0,2}umbringen",
    r"(?:ware|waere) ich (?:[\w']+ ){0,2}tot|(?:am liebsten|lieber) tot",
    r"(?:will|mochte) sterben<END>",
    # Second cycle.
    r"(?:leid|mude|satt),? (?:\. )?(?:am leben zu sein|zu leben)",
    r"lieber (?:tot|nicht mehr da|nicht mehr am leben)",
    r"(?:seil|strick) (?:gekauft|besorgt)",
    r"(?:gegen|an) (?:einen|eine|die|den) (?:baum|wand|mauer|brucke|lkw) (?:zu )?(?:fahren|rasen)",
    r"(?:arme|haut|beine) (?:[\w']+ )?(?:verbrannt|geritzt|aufgeschnitten)",
    r"(?:nicht mehr|nie wieder) (?:hier|da|am leben) sein",
]


def _compile_de(patterns: list[str]) -> re.Pattern[str]:
    pieces = {**_PIECES, **_DE_PIECES}
    joined = "|".join(f"(?:{p})" for p in patterns)
    for _ in range(4):
        joined = re.sub(r"<([A-Z_]+)>", lambda m: pieces[m.group(1)], joined)
    return re.compile(r"(?<![\w'])(?:" + joined + ")")


_CHECKS_DE: tuple[tuple[Category, re.Pattern[str]], ...] = (
    ("violence", _compile_de(_VIOLENCE_DE + _GENERAL_VIOLENCE_DE)),
    ("fear", _compile_de(_FEAR_DE + _GENERAL_FEAR_DE)),
    ("self_harm", _compile_de(_SELF_HARM_DE + _GENERAL_SELF_HARM_DE)),
)


# The languages with phrase lists of their own.
LANGUAGES: tuple[str, ...] = (REFERENCE_LANGUAGE, "de")


def check_danger(
    text: str, language: str = REFERENCE_LANGUAGE, *, trained: bool = True
) -> DangerCheck:
    """The first kind of danger phrase found, checking violence, fear, then self-harm;
    when no phrase matches, the trained classifier's verdict (its score if it flags).

    Args:
        text: what the person wrote.
        language: "en" or "de"; each has its own phrases. Anything else is checked as
            English.
        trained: when no phrase matches, also ask the trained classifier
            (bot/classifier.py); False gives the hand-written patterns alone.
    """
    normal = " " + normalise(text, language)
    if language == "de":
        for category, pattern in _CHECKS_DE:
            if pattern.search(normal):
                return DangerCheck(category)
    else:
        for category, pattern in _CHECKS:
            if _found(pattern, normal, _STEMS[category]):
                return DangerCheck(category)
    if not trained:
        return DangerCheck()
    found = classifier.score("safety", text, "de" if language == "de" else "en")
    return DangerCheck(classifier=round(found.value, 3)) if found.flagged else DangerCheck()


def suggests_danger(text: str, language: str = REFERENCE_LANGUAGE) -> bool:
    """True when `text` contains a phrase suggesting violence, fear for safety or self-harm."""
    return check_danger(text, language).flagged


# --- where to turn ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrisisLine:
    """One crisis line: its name as the service writes it, and the number to call."""

    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class CrisisResources:
    """Where someone can turn in their country; all None when the country is not known.

    With no `emergency`, the care message says "your local emergency services".
    """

    country: str | None = None
    emergency: str | None = None
    crisis_line: CrisisLine | None = None


@cache
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO 3166 country code, from the zone.tab that ships with tzdata."""
    tab = resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
    countries: dict[str, str] = {}
    for line in tab.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            countries[parts[2]] = parts[0]
    return countries


def country_for_zone(zone: str | None) -> str | None:
    """The country an IANA zone belongs to ("Europe/Berlin" -> "DE"), or None."""
    if not zone or not isinstance(zone, str):
        return None
    return _zone_countries().get(zone.strip())


@cache
def _crisis_table() -> dict[str, CrisisResources]:
    raw = resources.files("bot").joinpath("data", "crisis_resources.json").read_text("utf-8")
    table: dict[str, CrisisResources] = {}
    for country, entry in json.loads(raw).items():
        if country.startswith("_"):
            continue
        line = entry.get("crisis_line")
        table[country] = CrisisResources(
            country,
            entry.get("emergency"),
            CrisisLine(line["name"], line["phone"]) if line else None,
        )
    return table


def resources_for(zone: str | None) -> CrisisResources:
    """The emergency number and a crisis line for the country of `zone`, or the fallback."""
    country = country_for_zone(zone)
    if country is None:
        return CrisisResources()
    return _crisis_table().get(country, CrisisResources(country))
