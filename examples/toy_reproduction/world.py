"""A seeded synthetic world for the toy COMMIT reproduction.

The world is a tiny trilingual universe: an English lexicon and two made-up target
languages, "xx" (Greek letters) and "yy" (Cyrillic letters), each mapping every English word
to its own target word with the same word order. Everything the experiment needs is written
by ``generate``:

- ``corpus.jsonl``      English-centric pretraining text ({"text": ...}) stating the facts of a
                        fixed knowledge base; a few percent of the paragraphs are in each target
                        language.
- ``xx_corpus.jsonl``,  target-language monolingual text for the alignment phase.
  ``yy_corpus.jsonl``
- ``alpaca.json``       English Alpaca-format instruction data: mostly closed-book questions
                        about the tuning people, plus two simple tasks over a paragraph about a
                        tuning person (list the names, repeat a sentence).
- ``eval_<key>.json``   the questions about the held-out people, one set per way of asking
                        (``EVAL_SETS``): ``xx`` in the target language with the target-language
                        template and instruction (the paper's main prompt), ``xx+en`` the same
                        question under the English template and instruction (the paper's "+En
                        prompt"), the same for ``yy``, and ``en``, the English control.
- ``template.<lang>.json`` the Alpaca template translated word by word into the language.
- ``dict.en-<lang>.txt`` a MUSE-format dictionary covering only part of the word types, as real
                        dictionaries do (stratified per word class so every class is covered
                        at the same rate).
- ``tokenizer/``        a SentencePiece LLaMA tokenizer trained on the generated text.

Design choices (why the world looks like this):
- The task is closed-book recall of facts stated in the English pretraining corpus, not
  extraction from a context. The world is a fixed knowledge base (60 people, one answer for
  each of 5 relations); pretraining paragraphs state true facts about one person. A third of
  the people are held out: their facts are only stated in pretraining text, never asked, and
  never stated or asked in the tuning data (a paragraph task is always about a tuning person,
  though its sentences may name a held-out person as the answer of that person's fact); the
  evaluation asks about them, so instruction tuning can only teach the model to *use* what pretraining put in
  it, as with the paper's English-centric LLM. Extraction was tried first and measured (see
  the README): a model this size, pretrained for minutes, copies an answer out of its context
  only after a slow phase change (20% English EM after 1,000 steps), while it memorises
  stated facts quickly.
- The model is English-centric in the paper's sense: 4% of the pretraining paragraphs are
  translated into each target language (and the alignment corpora are), about the same world,
  so the model has seen each held-out fact in a target language a handful of times against
  hundreds in English; each dictionary covers 60% of the word types. Evaluation asks the
  held-out questions in each target language twice: under the template and instruction
  translated into it (the paper's main prompt; the model never saw them in tuning, as COMMIT
  never mixes the template) and under the English ones.
- Pretraining paragraphs about tuning people sometimes end with "question : ... answer :
  ..." lines (the question-like text real corpora contain; it also teaches the model that
  stated facts answer questions, which a small model does not infer from statements alone).
  The held-out people never get such lines, in either language.
- Every answer is a person's name, and names are written alike in both languages: the English
  control then measures recall itself, in every condition (a code-mixed tuning teaches the
  model to answer dictionary words in the target language, which strict English EM would
  count as wrong). Chosen on the English control of world 7 / tuning seed 100, after a world
  with places, jobs, foods and colours as answers left COMMIT at 49% English EM (62% with the
  translated answer accepted) against 92% for plain tuning. With one answer type, only the
  relation words of a question tell which fact is asked, and in the target-language
  evaluation they are target-language words: understanding them is what code-mixing should
  teach. Relations are directional and have two phrasings each.
- All text is lower case with punctuation split off by spaces, so word boundaries are
  unambiguous for the mixer and the dictionary.
"""

import json
import os
import random
import re

from easylm_commit.atomic import atomic_output
from easylm_commit.spm_tokenizer import train_llama_tokenizer
from easylm_commit.templates import ALPACA_EN, Formatter

# --- The English lexicon -------------------------------------------------------------------
# Person names: the only answer class.

NAMES = (
    "alice bob carol david emma frank grace henry irene jack karen leo maria nathan olivia "
    "peter quinn rosa samuel tina victor wendy xavier yara zoe adam bella chris diana ethan "
    "fiona george hannah ivan julia kevin laura mark nina oscar paula ruth steve ursula vera "
    "walter yusuf zack amber bruno clara derek elsa felix gina hugo ines jonas kira omar"
).split()
# Relations between people: every answer is a person's name. Names are written alike in both
# languages (see World), so a right answer is the same string whichever language the model
# answers in: the English control measures whether the task is learned, not which language a
# code-mixed tuning taught the model to answer in (a COMMIT-tuned model answers dictionary words
# in the target language, by design). The relations are directional (no "friend of"), so every
# question has one answer. Each relation has two fact phrasings, with the person before or
# after the relation words, so that a fact must be stored with its person, not as one frozen
# string.
RELATIONS = {
    "mother": (
        ("the mother of {e} is {a} .", "{a} is the mother of {e} ."),
        "who is the mother of {e} ?",
        "name",
    ),
    "boss": (
        ("the boss of {e} is {a} .", "{e} works for {a} ."),
        "who is the boss of {e} ?",
        "name",
    ),
    "teacher": (
        ("the teacher of {e} is {a} .", "{e} was taught by {a} ."),
        "who was the teacher of {e} ?",
        "name",
    ),
    "doctor": (
        ("the doctor of {e} is {a} .", "{e} is treated by {a} ."),
        "who is the doctor of {e} ?",
        "name",
    ),
    "coach": (
        ("the coach of {e} is {a} .", "{e} is trained by {a} ."),
        "who is the coach of {e} ?",
        "name",
    ),
}
# The relation nouns are a word class of their own, so the dictionary covers the same share
# of them in every world (a seed cannot leave all of them out, or cover all of them).
RELATION_NOUNS = "mother boss teacher doctor coach".split()
CLASSES = {
    "name": NAMES,
    "relation": RELATION_NOUNS,
}

# Instruction texts (English; the Alpaca template itself lives in the package).
QA_INSTRUCTION = "answer the question ."
NAMES_INSTRUCTION = "list the names of the people in the text ."
REPEAT_INSTRUCTION = "repeat the first sentence of the text ."

PUNCT = {".", "?", ",", ":"}

# The words of the Alpaca template (lower case; the dictionary lookup ignores case). They are
# part of the lexicon, so that the dictionary covers them as a real MUSE dictionary covers
# common English words, and naive code-mixing really mixes the template.
TEMPLATE_WORDS = (
    "below is an instruction that describes a task paired with input provides further "
    "context write response appropriately completes the request"
).split()

# The target languages: (consonants, vowels) of their scripts. Each is a distinct script that
# SentencePiece handles well, so a target word is never an English piece.
SCRIPTS = {
    "xx": ("βγδζθκλμνξπρστφχ", "αεηιουω"),  # Greek letters
    "yy": ("бгджзклмнпрстфхц", "аеиоуыэ"),  # Cyrillic letters
}
TARGETS = tuple(SCRIPTS)
# The evaluation sets: (question language, template language). "xx" asks in xx under the
# template and instruction translated into xx (the paper's main prompt), "xx+en" asks the
# same question under the English ones (the paper's "+En prompt" baseline); "en" is the
# English control.
EVAL_SETS = {"xx": ("xx", "xx"), "xx+en": ("xx", "en"), "yy": ("yy", "yy"), "yy+en": ("yy", "en"),
             "en": ("en", "en")}


def _english_vocabulary():
    """Every English word type the generator can emit, by class ("function" for the rest)."""
    by_class = {k: list(v) for k, v in CLASSES.items()}
    seen = {w for words in by_class.values() for w in words}
    function = []
    texts = [QA_INSTRUCTION, NAMES_INSTRUCTION, REPEAT_INSTRUCTION, "question : answer : text :",
             " ".join(TEMPLATE_WORDS)]
    for facts, question, _ in RELATIONS.values():
        texts.extend(facts)
        texts.append(question)
    for text in texts:
        for word in text.split():
            if word in PUNCT or word.startswith("{") or word in seen:
                continue
            seen.add(word)
            function.append(word)
    by_class["function"] = function
    return by_class


class World(object):
    """The lexicon, its translations into each target language and the partial dictionaries,
    from a seed. ``translation`` and ``dictionary`` are xx's (the first target language)."""

    def __init__(self, seed=0, dictionary_coverage=0.6):
        self.seed = seed
        self.classes = _english_vocabulary()
        self.words = [w for ws in self.classes.values() for w in ws]
        self.translations, self.dictionaries = {}, {}
        for lang in TARGETS:
            # xx keeps the random stream it had when it was the only target language, so its
            # words and dictionary are those of the one-language world.
            rng = random.Random(f"world-{seed}" if lang == "xx" else f"world-{seed}-{lang}")
            self.translations[lang], self.dictionaries[lang] = self._language(
                rng, *SCRIPTS[lang], dictionary_coverage)
        self.translation, self.dictionary = self.translations["xx"], self.dictionaries["xx"]

    def _language(self, rng, consonants, vowels, dictionary_coverage):
        translation = {}
        used = set()
        for word in self.words:
            if word in self.classes["name"]:
                # Person names are written the same in every language (as in most of the
                # paper's evaluation languages, or as a learnt transliteration would be): they
                # are the anchors through which a target-language question can reach what
                # the model knows about a person. They need no dictionary entry.
                translation[word] = word
                continue
            while True:
                syllables = rng.randint(2, 3)
                target = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
                if target not in used:
                    break
            used.add(target)
            translation[word] = target
        # Stratified coverage: the same share of every word class is in the dictionary, so
        # a seed cannot by chance leave out, say, all question words.
        dictionary = {}
        for word_class, words in self.classes.items():
            if word_class == "name":
                continue
            ordered = sorted(words)
            rng.shuffle(ordered)
            for word in ordered[: round(dictionary_coverage * len(ordered))]:
                dictionary[word] = translation[word]
        return translation, dictionary

    def translate(self, text, lang="xx"):
        """Word-by-word translation into a target language; punctuation is kept."""
        if lang == "en":
            return text
        translation = self.translations[lang]
        return " ".join(w if w in PUNCT else translation[w] for w in text.split())

    def template(self, lang):
        """Alpaca's template (both prompts) with every word translated into ``lang``, case,
        punctuation, the "###" headers and the layout kept: the target-language prompt of the
        evaluation. Every word of the template is in the lexicon (TEMPLATE_WORDS)."""
        translation = self.translations[lang]

        def word(match):
            if match.group(1):  # a {field} placeholder
                return match.group(0)
            w = match.group(2)
            t = translation[w.lower()]
            return t[:1].upper() + t[1:] if w[:1].isupper() else t

        return {k: re.sub(r"(\{)?\b([A-Za-z]+)\b(?(1)\})", word, v) for k, v in ALPACA_EN.items()}

    def write_dictionary(self, path, lang="xx"):
        """MUSE format: one "source target" pair per line, separated by a space."""
        with atomic_output(path) as fout:
            for word in sorted(self.dictionaries[lang]):
                fout.write(f"{word} {self.dictionaries[lang][word]}\n")


# --- The knowledge base, paragraphs, questions and tasks --------------------------------------

# Pretraining paragraphs state 2-4 facts of one person; a share of them (of tuning people
# only, see ``World.paragraph``) ends with one or two questions and their answers.
FACTS_PER_PARAGRAPH = (2, 4)
PRETRAIN_QA_SHARE = 0.5
PRETRAIN_QUESTIONS = (1, 2)
# Share of the instruction records that are closed-book questions (the rest: list the names,
# repeat the first sentence, half each).
INSTRUCTION_QA_SHARE = 0.95
# A third of the people are held out: their facts are only ever stated in pretraining text,
# never asked, and the evaluation asks about them.
EVAL_PEOPLE_SHARE = 1 / 3


def _question(relation, person):
    return RELATIONS[relation][1].format(e=person)


def qa_prompt_input(question):
    """The Alpaca ``input`` field of a QA item (training data and evaluation alike).

    It starts with a marker word because SentencePiece tokenizes the first word after the
    template's newline without its "▁" prefix: a name there would be another token than the
    same name anywhere else.
    """
    return f"question : {question}"


class Knowledge(object):
    """The world's facts: every person has one answer for every relation, fixed by the seed."""

    def __init__(self, seed=0):
        rng = random.Random(f"knowledge-{seed}")
        self.facts = {}
        self._names = set(NAMES)
        for person in NAMES:
            self.facts[person] = {}
            for relation in sorted(RELATIONS):
                choices = [w for w in CLASSES[RELATIONS[relation][2]] if w != person]
                self.facts[person][relation] = rng.choice(choices)
        people = sorted(NAMES)
        rng.shuffle(people)
        n_eval = round(EVAL_PEOPLE_SHARE * len(people))
        self.eval_people = sorted(people[:n_eval])
        self.tuning_people = sorted(people[n_eval:])

    def sentence(self, rng, person, relation):
        return rng.choice(RELATIONS[relation][0]).format(e=person, a=self.facts[person][relation])

    def paragraph(self, rng, qa_share=None):
        """2-4 true statements about a random person (random relations, order and phrasing);
        for a tuning person, sometimes followed by questions about them with their answers."""
        person = rng.choice(NAMES)
        relations = rng.sample(sorted(RELATIONS), rng.randint(*FACTS_PER_PARAGRAPH))
        text = " ".join(self.sentence(rng, person, r) for r in relations)
        share = PRETRAIN_QA_SHARE if qa_share is None else qa_share
        if person in self.tuning_people and rng.random() < share:
            for relation in rng.sample(relations, min(len(relations), rng.randint(*PRETRAIN_QUESTIONS))):
                text += f" question : {_question(relation, person)} answer : {self.facts[person][relation]} ."
        return text

    def instruction_record(self, rng, qa_share=None):
        """One English Alpaca record: mostly closed-book QA about a tuning person, sometimes a
        simple task over a paragraph (list the names, repeat the first sentence)."""
        qa_share = INSTRUCTION_QA_SHARE if qa_share is None else qa_share
        roll = rng.random()
        if roll < qa_share:
            person, relation = rng.choice(self.tuning_people), rng.choice(sorted(RELATIONS))
            return dict(instruction=QA_INSTRUCTION, input=qa_prompt_input(_question(relation, person)),
                        output=self.facts[person][relation])
        # A tuning person: a held-out person's facts are never stated in tuning data (the
        # paragraph's sentences may still name a held-out person, as the answer of the tuning
        # person's fact). Drawing from every name put 63-73 held-out facts per seed into the
        # tuning set, a third of them as "repeat" responses.
        person = rng.choice(self.tuning_people)
        relations = rng.sample(sorted(RELATIONS), rng.randint(*FACTS_PER_PARAGRAPH))
        sentences = [self.sentence(rng, person, r) for r in relations]
        context = " ".join(sentences)
        if roll < qa_share + (1 - qa_share) / 2:
            names = []
            for word in context.split():
                if word in self._names and word not in names:
                    names.append(word)
            return dict(instruction=NAMES_INSTRUCTION, input=f"text : {context}", output=" , ".join(names))
        return dict(instruction=REPEAT_INSTRUCTION, input=f"text : {context}", output=sentences[0])

    def facts_in(self, text, people=None):
        """The (person, relation) facts of ``people`` (default: everyone) that ``text`` states
        in any phrasing or asks about: what the held-out check of the tuning data looks for."""
        found = set()
        padded = f" {' '.join(text.split())} "  # whole words only: "bob" is not in "bobby"
        for person in (NAMES if people is None else people):
            for relation, (phrasings, question, _) in RELATIONS.items():
                answer = self.facts[person][relation]
                if (any(f" {p.format(e=person, a=answer)} " in padded for p in phrasings)
                        or f" {question.format(e=person)} " in padded):
                    found.add((person, relation))
        return found

    def eval_questions(self):
        """Every (held-out person, relation) question with its answer, in a fixed order."""
        return [(_question(r, p), self.facts[p][r]) for p in self.eval_people for r in sorted(RELATIONS)]


# --- Writing everything ------------------------------------------------------------------------

# Sizes for the full experiment and for --quick; the runner may override them.
SIZES = {
    "full": dict(
        pretrain_paragraphs=50000,
        target_share=0.04,  # of the pretraining paragraphs, per target language
        align_paragraphs=6000,  # per target language
        instructions=4000,
        eval_items=100,
        vocab_size=1280,
    ),
    "quick": dict(
        pretrain_paragraphs=3000,
        target_share=0.04,
        align_paragraphs=500,
        instructions=600,
        eval_items=40,
        vocab_size=1280,
    ),
}


def write_jsonl(path, texts):
    with atomic_output(path) as fout:
        for text in texts:
            fout.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")


def write_json(path, obj):
    with atomic_output(path) as fout:
        json.dump(obj, fout, ensure_ascii=False, indent=1)


def generate(out_dir, seed=0, size="full", **overrides):
    """Write the whole synthetic world under ``out_dir``; returns a dict of paths and counts."""
    sizes = dict(SIZES[size], **overrides)
    os.makedirs(out_dir, exist_ok=True)
    world = World(seed)
    kb = Knowledge(seed)
    rng = random.Random(f"data-{seed}")

    pretrain = []
    n_target = {lang: 0 for lang in TARGETS}
    for _ in range(sizes["pretrain_paragraphs"]):
        text = kb.paragraph(rng)
        # One draw: target_share of the paragraphs in each target language, the rest English.
        roll = rng.random()
        for k, lang in enumerate(TARGETS):
            if roll < (k + 1) * sizes["target_share"]:
                text = world.translate(text, lang)
                n_target[lang] += 1
                break
        pretrain.append(text)
    # Target-language text for the alignment phase: about the same world, as Wikipedia in
    # the target language is about the same world as English Wikipedia.
    align = {lang: [world.translate(kb.paragraph(rng), lang) for _ in range(sizes["align_paragraphs"])]
             for lang in TARGETS}
    instructions = [kb.instruction_record(rng) for _ in range(sizes["instructions"])]

    questions = kb.eval_questions()
    random.Random(f"eval-{seed}").shuffle(questions)
    questions = questions[: sizes["eval_items"]]

    def eval_set(key):
        lang, template = EVAL_SETS[key]
        items = []
        for i, (question, answer) in enumerate(questions):
            # Question and answer in the set's language; the instruction in its template's
            # (names are written alike in every language, so the answer is one string).
            items.append(dict(id=f"{key}-{i}", instruction=world.translate(QA_INSTRUCTION, template),
                              input=world.translate(qa_prompt_input(question), lang),
                              answers=[world.translate(answer, lang)]))
        return items

    paths = dict(
        corpus=os.path.join(out_dir, "corpus.jsonl"),
        alpaca=os.path.join(out_dir, "alpaca.json"),
        tokenizer=os.path.join(out_dir, "tokenizer"),
        **{f"{lang}_corpus": os.path.join(out_dir, f"{lang}_corpus.jsonl") for lang in TARGETS},
        **{f"dictionary_{lang}": os.path.join(out_dir, f"dict.en-{lang}.txt") for lang in TARGETS},
        **{f"template_{lang}": os.path.join(out_dir, f"template.{lang}.json") for lang in TARGETS},
        **{f"eval_{key}": os.path.join(out_dir, f"eval_{key}.json") for key in EVAL_SETS},
    )
    write_jsonl(paths["corpus"], pretrain)
    write_json(paths["alpaca"], instructions)
    for lang in TARGETS:
        write_jsonl(paths[f"{lang}_corpus"], align[lang])
        world.write_dictionary(paths[f"dictionary_{lang}"], lang)
        write_json(paths[f"template_{lang}"], world.template(lang))
    for key in EVAL_SETS:
        write_json(paths[f"eval_{key}"], eval_set(key))

    # Like an English-centric LLM's tokenizer, this one is trained on the pretraining corpus
    # (plus the template words): English words become single pieces, the rare target-language
    # words are often split, as LLaMA's tokenizer splits Greek or Hindi.
    formatter = Formatter(mode="none")
    texts = list(pretrain)
    for record in instructions[:500]:
        sample = formatter.format(record)
        texts.extend((sample.prompt + " " + sample.response).split("\n"))
    train_llama_tokenizer(texts, paths["tokenizer"], sizes["vocab_size"])
    shape = dict(facts_per_paragraph=FACTS_PER_PARAGRAPH, pretrain_qa_share=PRETRAIN_QA_SHARE,
                 instruction_qa_share=INSTRUCTION_QA_SHARE, relations=len(RELATIONS),
                 pretrain_questions=PRETRAIN_QUESTIONS, people=len(NAMES),
                 eval_people=len(kb.eval_people), tuning_people=len(kb.tuning_people))
    return dict(paths=paths, target_paragraphs=n_target, sizes=sizes, shape=shape)


def eval_template(paths, key):
    """The template an evaluation set is asked under: "en" (Alpaca's) or a template file."""
    template = EVAL_SETS[key][1]
    return "en" if template == "en" else paths[f"template_{template}"]
