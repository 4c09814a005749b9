"""Zero-shot QA prompts in the Alpaca format the models were instruction-tuned on.

The prompt is built by the training formatter itself (``easylm_commit.templates.Formatter``,
mode ``none``), so the evaluated model sees the training layout to the character: the Alpaca
preamble and ``### Instruction:`` / ``### Input:`` / ``### Response:`` headers of the prompt
language, ending at the response header, where training put the response. Only the task part
is defined here: the instruction "answer the question using the given context" and the input
"Context: ... / Question: ...", in each prompt language. The target-language variants use the
translated template (``templates.TRANSLATED``), the ``_en`` variants the English one.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from easylm_commit.templates import Formatter

# lang -> (instruction, context label, question label)
QA = {
    "en": ("Answer the question using the given context.", "Context:", "Question:"),
    "hi": ("दिए गए संदर्भ के आधार पर प्रश्न का उत्तर दें।", "संदर्भ:", "प्रश्न:"),
    "el": ("Απαντήστε στην ερώτηση με βάση το δοσμένο κείμενο.", "Κείμενο:", "Ερώτηση:"),
    "th": ("จงตอบคำถามโดยใช้บริบทที่ให้มา", "บริบท:", "คำถาม:"),
    "ta": ("கொடுக்கப்பட்ட சூழலைப் பயன்படுத்தி கேள்விக்குப் பதிலளிக்கவும்.", "சூழல்:", "கேள்வி:"),
    "bn": ("প্রদত্ত প্রসঙ্গ ব্যবহার করে প্রশ্নের উত্তর দিন।", "প্রসঙ্গ:", "প্রশ্ন:"),
}


@functools.lru_cache(maxsize=None)
def _formatter(lang: str) -> Formatter:
    from easylm_commit.templates import Formatter

    return Formatter(mode="none", template=lang)


def qa_prompt(context: str, question: str, lang: str) -> str:
    """The Alpaca prompt in ``lang`` for one question; the answer is generated right after it."""
    instruction, l_context, l_question = QA[lang]
    record = {
        "instruction": instruction,
        "input": f"{l_context} {context.strip()}\n{l_question} {question.strip()}",
        "output": "",
    }
    return _formatter(lang).format(record).prompt
