"""A seeded synthetic world for the toy COMMIT reproduction.

The world is a tiny bilingual universe: an English lexicon and a made-up target language
("xx", written in Greek letters) that maps every English word to its own target word with
the same word order. Everything the experiment needs is written by ``generate``:

- ``corpus.jsonl``      English-centric pretraining text ({"text": ...}); a few percent of the
                        paragraphs are in the target language, about other (random) facts.
- ``xx_corpus.jsonl``   target-language monolingual text for the alignment phase.
- ``alpaca.json``       English Alpaca-format instruction data: mostly extractive QA over a
                        context paragraph, plus two simple tasks (list the names, repeat a
                        sentence).
- ``eval_xx.json``      target-language extractive QA (context, question, answers in xx).
- ``eval_en.json``      the same task in English, the control.
- ``dict.en-xx.txt``    a MUSE-format dictionary covering only part of the word types, as real
                        dictionaries do (stratified per word class so every class is covered
                        at the same rate).
- ``tokenizer/``        a SentencePiece LLaMA tokenizer trained on the generated text.

Design choices (why the world looks like this):
- Facts are random per paragraph, not a consistent knowledge base, so QA is extractive: the
  model must read the context, not recall pretraining.
- Two relations share an answer type (``lives in`` and ``was born in`` both take a place) and
  contexts hold several people, so "copy the first place after the name" is not enough: the
  model must understand the question word and the relation word, which is exactly what it
  does not know in the target language after English-only instruction tuning.
- Half of the pretraining paragraphs end with a "question : ... answer : ..." line, in both
  languages, standing in for the question-like text real pretraining corpora contain: the
  base model can read a paragraph and answer in the pretraining format, in English and a
  little in the target language, as an English-centric LLM can. Without it the target
  question words would appear nowhere but in the code-mixed instruction data (the comparison
  would be rigged in COMMIT's favour), and a model this small, pretrained this briefly, does
  not learn to extract answers from 200 tuning steps alone (a pilot with 15% such lines
  reached 10% English EM after tuning).
- All text is lower case with punctuation split off by spaces, so word boundaries are
  unambiguous for the mixer and the dictionary.
"""

import json
import os
import random

from easylm_commit.spm_tokenizer import train_llama_tokenizer
from easylm_commit.templates import Formatter

# --- The English lexicon -------------------------------------------------------------------
# Word classes; answers of different relations come from different classes except places.

NAMES = (
    "alice bob carol david emma frank grace henry irene jack karen leo maria nathan olivia "
    "peter quinn rosa samuel tina victor wendy xavier yara zoe adam bella chris diana ethan "
    "fiona george hannah ivan julia kevin laura mark nina oscar"
).split()
PLACES = (
    "paris rome berlin madrid lisbon vienna prague dublin oslo athens cairo lima quito tokyo "
    "delhi sydney boston denver toronto havana nairobi seoul bangkok hanoi manila"
).split()
JOBS = (
    "baker teacher doctor farmer pilot singer painter driver nurse lawyer writer dancer "
    "builder tailor barber sailor miner judge chef clerk"
).split()
FOODS = (
    "apples bread rice cheese fish soup eggs honey pears grapes beans noodles cake plums "
    "olives melons carrots nuts figs lemons"
).split()
ANIMALS = (
    "dog cat horse goat sheep rabbit parrot duck cow pig mouse turtle donkey owl fox "
    "hamster camel goose snake frog"
).split()
COLORS = "red blue green yellow black white purple orange brown pink gray silver".split()

# Relation phrasings: (fact template, question template, answer class). Each relation has
# two fact paraphrases so that pretraining text is not a single frozen pattern.
RELATIONS = {
    "lives": (
        ("{e} lives in {a} .", "the home of {e} is in {a} ."),
        "where does {e} live ?",
        "place",
    ),
    "born": (
        ("{e} was born in {a} .", "the birthplace of {e} is {a} ."),
        "where was {e} born ?",
        "place",
    ),
    "job": (
        ("{e} works as a {a} .", "the job of {e} is {a} ."),
        "what is the job of {e} ?",
        "job",
    ),
    "food": (
        ("{e} likes to eat {a} .", "the favorite food of {e} is {a} ."),
        "what does {e} like to eat ?",
        "food",
    ),
    "pet": (
        ("{e} has a {a} .", "the pet of {e} is a {a} ."),
        "what animal does {e} have ?",
        "animal",
    ),
    "color": (
        ("the favorite color of {e} is {a} .", "{e} likes the color {a} ."),
        "what is the favorite color of {e} ?",
        "color",
    ),
    "friend": (
        ("{e} is a friend of {a} .", "the best friend of {e} is {a} ."),
        "who is the friend of {e} ?",
        "name",
    ),
}
CLASSES = {
    "name": NAMES,
    "place": PLACES,
    "job": JOBS,
    "food": FOODS,
    "animal": ANIMALS,
    "color": COLORS,
}

# Instruction texts (English; the Alpaca template itself lives in the package).
QA_INSTRUCTION = "answer the question using a word from the text ."
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

# Greek letters make the target language a distinct script that SentencePiece handles well.
_CONSONANTS = "βγδζθκλμνξπρστφχ"
_VOWELS = "αεηιουω"


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
    """The lexicon, its target-language translation and the partial dictionary, from a seed."""

    def __init__(self, seed=0, dictionary_coverage=0.6):
        self.seed = seed
        rng = random.Random(f"world-{seed}")
        self.classes = _english_vocabulary()
        self.words = [w for ws in self.classes.values() for w in ws]
        self.translation = {}
        used = set()
        for word in self.words:
            while True:
                syllables = rng.randint(2, 3)
                target = "".join(
                    rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables)
                )
                if target not in used:
                    break
            used.add(target)
            self.translation[word] = target
        # Stratified coverage: the same share of every word class is in the dictionary, so
        # a seed cannot by chance leave out, say, all question words.
        self.dictionary = {}
        for words in self.classes.values():
            ordered = sorted(words)
            rng.shuffle(ordered)
            for word in ordered[: round(dictionary_coverage * len(ordered))]:
                self.dictionary[word] = self.translation[word]

    def translate(self, text):
        """Word-by-word translation into the target language; punctuation is kept."""
        return " ".join(w if w in PUNCT else self.translation[w] for w in text.split())

    def write_dictionary(self, path):
        """MUSE format: one "source target" pair per line, separated by a space."""
        with open(path, "w", encoding="utf-8") as fout:
            for word in sorted(self.dictionary):
                fout.write(f"{word} {self.dictionary[word]}\n")


# --- Paragraphs, questions and tasks ---------------------------------------------------------


def _facts(rng, people=None, facts_per_person=(2, 4)):
    """A list of (person, relation, answer, sentence) for a small random paragraph."""
    if people is None:
        people = rng.sample(NAMES, rng.randint(1, 3))
    facts = []
    for person in people:
        for relation in rng.sample(sorted(RELATIONS), rng.randint(*facts_per_person)):
            phrasings, _, answer_class = RELATIONS[relation]
            choices = [w for w in CLASSES[answer_class] if w != person]
            answer = rng.choice(choices)
            sentence = rng.choice(phrasings).format(e=person, a=answer)
            facts.append((person, relation, answer, sentence))
    return facts


def _question(relation, person):
    return RELATIONS[relation][1].format(e=person)


def pretraining_paragraph(rng, qa_share=0.5):
    """A paragraph of random facts, sometimes followed by one question and its answer."""
    facts = _facts(rng)
    text = " ".join(f[3] for f in facts)
    if rng.random() < qa_share:
        person, relation, answer, _ = rng.choice(facts)
        text += f" question : {_question(relation, person)} answer : {answer} ."
    return text


def qa_example(rng):
    """Extractive QA over a context with two or three people (so the name alone is not enough)."""
    people = rng.sample(NAMES, rng.randint(2, 3))
    facts = _facts(rng, people=people, facts_per_person=(2, 3))
    # Guarantee that the asked relation's answer is unique in the context: a person has one
    # fact per relation already; the question names the person.
    person, relation, answer, _ = rng.choice(facts)
    context = " ".join(f[3] for f in facts)
    return dict(context=context, question=_question(relation, person), answer=answer)


def instruction_record(rng, qa_share=0.8):
    """One English Alpaca record: mostly QA, sometimes a simple non-QA task."""
    roll = rng.random()
    if roll < qa_share:
        ex = qa_example(rng)
        return dict(
            instruction=QA_INSTRUCTION,
            input=qa_prompt_input(ex["context"], ex["question"]),
            output=ex["answer"],
        )
    facts = _facts(rng)
    context = " ".join(f[3] for f in facts)
    if roll < qa_share + (1 - qa_share) / 2:
        names = []
        for person, relation, answer, _ in facts:
            for name in (person, answer) if relation == "friend" else (person,):
                if name not in names:
                    names.append(name)
        return dict(instruction=NAMES_INSTRUCTION, input=f"text : {context}", output=" , ".join(names))
    return dict(instruction=REPEAT_INSTRUCTION, input=f"text : {context}", output=facts[0][3])


def qa_prompt_input(context, question):
    """The Alpaca ``input`` field for a QA item (shared by training data and evaluation).

    The input starts with a marker word because SentencePiece tokenizes the first word after
    the template's newline without its "▁" prefix: a name there would be a different token
    from the same name in the question, and copying it would become a tokenisation puzzle.
    """
    return f"text : {context} question : {question}"


# --- Writing everything ------------------------------------------------------------------------

# Sizes for the full experiment and for --quick; the runner may override them.
SIZES = {
    "full": dict(
        pretrain_paragraphs=40000,
        target_share=0.04,
        align_paragraphs=6000,
        instructions=6000,
        eval_items=120,
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


def _write_jsonl(path, texts):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fout:
        for text in texts:
            fout.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fout:
        json.dump(obj, fout, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def generate(out_dir, seed=0, size="full", **overrides):
    """Write the whole synthetic world under ``out_dir``; returns a dict of paths and counts."""
    sizes = dict(SIZES[size], **overrides)
    os.makedirs(out_dir, exist_ok=True)
    world = World(seed)
    rng = random.Random(f"data-{seed}")

    pretrain = []
    n_target = 0
    for _ in range(sizes["pretrain_paragraphs"]):
        text = pretraining_paragraph(rng)
        if rng.random() < sizes["target_share"]:
            text = world.translate(text)
            n_target += 1
        pretrain.append(text)
    align = [world.translate(pretraining_paragraph(rng)) for _ in range(sizes["align_paragraphs"])]
    instructions = [instruction_record(rng) for _ in range(sizes["instructions"])]

    def eval_set(lang):
        items = []
        for i in range(sizes["eval_items"]):
            ex = qa_example(rng)
            text, answer = qa_prompt_input(ex["context"], ex["question"]), ex["answer"]
            if lang == "xx":
                # Everything but the Alpaca template and the instruction is in the target
                # language, like the paper's benchmarks with an English prompt.
                text, answer = world.translate(text), world.translate(answer)
            items.append(
                dict(id=f"{lang}-{i}", instruction=QA_INSTRUCTION, input=text, answers=[answer])
            )
        return items

    eval_en, eval_xx = eval_set("en"), eval_set("xx")

    paths = dict(
        corpus=os.path.join(out_dir, "corpus.jsonl"),
        xx_corpus=os.path.join(out_dir, "xx_corpus.jsonl"),
        alpaca=os.path.join(out_dir, "alpaca.json"),
        eval_en=os.path.join(out_dir, "eval_en.json"),
        eval_xx=os.path.join(out_dir, "eval_xx.json"),
        dictionary=os.path.join(out_dir, "dict.en-xx.txt"),
        tokenizer=os.path.join(out_dir, "tokenizer"),
    )
    _write_jsonl(paths["corpus"], pretrain)
    _write_jsonl(paths["xx_corpus"], align)
    _write_json(paths["alpaca"], instructions)
    _write_json(paths["eval_en"], eval_en)
    _write_json(paths["eval_xx"], eval_xx)
    world.write_dictionary(paths["dictionary"])

    # Like an English-centric LLM's tokenizer, this one is trained on the pretraining corpus
    # (plus the template words): English words become single pieces, the rare target-language
    # words are often split, as LLaMA's tokenizer splits Greek or Hindi.
    formatter = Formatter(mode="none")
    texts = list(pretrain)
    for record in instructions[:500]:
        sample = formatter.format(record)
        texts.extend((sample.prompt + " " + sample.response).split("\n"))
    train_llama_tokenizer(texts, paths["tokenizer"], sizes["vocab_size"])
    return dict(paths=paths, target_paragraphs=n_target, sizes=sizes)
