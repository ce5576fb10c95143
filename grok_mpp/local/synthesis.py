"""Deterministic "intelligence" of the local gateway: message text, arithmetic, echoes, retrieval.

Why: demos and framework tests need answers that visibly depend on the prompt (``what is 2+3`` ->
5, ``say hi`` -> hi, a LlamaIndex query engine quoting the relevant context sentence) while staying
reproducible and obviously synthetic. Every answer starts with :data:`SYNTHETIC_MARKER` so nobody
mistakes it for Grok output.

Arithmetic is evaluated with a tiny AST walker that accepts numbers and ``+ - * / // % **`` only;
nothing from a request is ever passed to ``eval``/``exec``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from grok_mpp.local.schema_fill import STOP_WORDS, content_words, find_quoted

SYNTHETIC_MARKER = "[synthetic] "

_MAX_EXPRESSION_CHARS = 200
_MAX_EXPONENT = 100
_MAX_MAGNITUDE = 10**100

_BINARY_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}

_WORD_OPERATORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bplus\b", re.I), "+"),
    (re.compile(r"\bminus\b", re.I), "-"),
    (re.compile(r"\b(?:times|multiplied by)\b", re.I), "*"),
    (re.compile(r"\bdivided by\b", re.I), "/"),
    (re.compile(r"\bto the power of\b", re.I), "**"),
)
_EXPRESSION_RE = re.compile(r"[\d(][\d\s.+\-*/%()]*[\d)]")
_OPERATOR_RE = re.compile(r"\d\s*\)*\s*(?:\*\*|//|[+\-*/%])\s*\(*\s*-?\d")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_DIRECTIVE_RE = re.compile(
    r"^\s*(?:please\s+)?(?:just\s+)?"
    r"(?:say|repeat(?:\s+after\s+me)?|echo|reply\s+with|respond\s+with|answer\s+with)\b[\s:,]*(.+)$",
    re.I | re.S,
)
_CONTEXT_MARKER_RE = re.compile(r"context information(?: from multiple sources)? is below\.?", re.I)
_REFINE_RE = re.compile(
    r"(?:provided an existing answer|original answer)\s*:\s*(.+?)\s*\n\s*(?:we have the opportunity|new answer\s*:)",
    re.I | re.S,
)
_DASH_LINE_RE = re.compile(r"^\s*-{3,}\s*$", re.M)
_QUERY_RE = re.compile(r"(?:^|\n)\s*(?:query|question)\s*:\s*(.+?)\s*(?:\n\s*answer\s*:|$)", re.I | re.S)
_METADATA_LINE_RE = re.compile(r"^\s*([a-z]+_[a-z_]+|source|url|title|author|date)\s*:\s*\S", re.I)
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+|\n+")


# --- message text --------------------------------------------------------------------------------


def content_text(content: Any) -> str:
    """Text of an OpenAI message ``content``: a string, or the text parts of a part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    return str(content)


def count_images(content: Any) -> int:
    """Image parts (``image_url`` / ``input_image``) in a message ``content`` list."""
    if not isinstance(content, list):
        return 0
    return sum(1 for p in content if isinstance(p, Mapping) and p.get("type") in ("image_url", "input_image", "image"))


# --- arithmetic ----------------------------------------------------------------------------------


def safe_eval(expression: str) -> int | float:
    """Evaluate numbers joined by ``+ - * / // % **`` and parentheses; anything else is refused.

    Raises ``ValueError`` for unsupported syntax or oversized results and ``ZeroDivisionError`` for
    division by zero, so callers can turn either into a plain-language answer.
    """
    if len(expression) > _MAX_EXPRESSION_CHARS:
        raise ValueError("expression too long")
    tree = ast.parse(expression.strip(), mode="eval")
    return _eval_node(tree.body)


def _eval_node(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPS:
        return _UNARY_OPS[type(node.op)](_eval_node(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        left, right = _eval_node(node.left), _eval_node(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > _MAX_EXPONENT or abs(left) > _MAX_MAGNITUDE):
            raise ValueError("exponent too large")
        result = _BINARY_OPS[type(node.op)](left, right)
        if isinstance(result, complex) or abs(result) > _MAX_MAGNITUDE:
            raise ValueError("result out of range")
        return result  # type: ignore[no-any-return]
    raise ValueError(f"unsupported syntax: {type(node).__name__}")


def find_expression(text: str) -> str | None:
    """The longest arithmetic expression in ``text`` (with at least one operator), normalised.

    ``x``, the multiplication and division signs, ``^`` and the words plus/minus/times/divided by are understood; ISO dates are
    not mistaken for subtractions.
    """
    normalised = text.replace("\u00d7", "*").replace("\u00f7", "/").replace("^", "**")
    for pattern, symbol in _WORD_OPERATORS:
        normalised = pattern.sub(symbol, normalised)
    normalised = re.sub(r"(?<=\d)\s*[xX]\s*(?=\d)", "*", normalised)
    best: str | None = None
    for match in _EXPRESSION_RE.finditer(normalised):
        candidate = match.group(0).strip()
        if not _OPERATOR_RE.search(candidate) or _DATE_RE.match(candidate):
            continue
        candidate = _balance_parentheses(candidate)
        if candidate and (best is None or len(candidate) > len(best)):
            best = candidate
    return best


def _balance_parentheses(candidate: str) -> str:
    """Trim unmatched leading '(' / trailing ')' picked up from surrounding prose."""
    while candidate.count("(") > candidate.count(")") and candidate.startswith("("):
        candidate = candidate[1:].strip()
    while candidate.count(")") > candidate.count("(") and candidate.endswith(")"):
        candidate = candidate[:-1].strip()
    return candidate


def format_number(value: int | float) -> str:
    """Integral results without ``.0``; others to 12 significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """An expression found in a prompt and its value (``None`` with ``error`` when not computable)."""

    expression: str
    value: int | float | None
    error: str | None = None


def solve_arithmetic(text: str) -> Arithmetic | None:
    expression = find_expression(text)
    if expression is None:
        return None
    try:
        return Arithmetic(expression, safe_eval(expression))
    except ZeroDivisionError:
        return Arithmetic(expression, None, "division by zero")
    except (ValueError, SyntaxError, OverflowError, TypeError) as exc:
        return Arithmetic(expression, None, str(exc) or "not computable")


# --- answers -------------------------------------------------------------------------------------


def directive_payload(text: str) -> str | None:
    """For ``say X`` / ``repeat X`` / ``reply with X`` prompts, the X to produce."""
    match = _DIRECTIVE_RE.match(text)
    if not match:
        return None
    rest = match.group(1).strip()
    quoted = find_quoted(rest)
    if quoted and rest[:1] in "'\"\u201c\u2018":
        return quoted[0]
    rest = rest.rstrip()
    if rest.endswith(".") and not rest.endswith(".."):
        rest = rest[:-1]
    return rest or None


def refine_answer(text: str) -> str | None:
    """For a LlamaIndex refine prompt, the existing answer (kept as-is: the synthetic model never
    improves an answer, which keeps multi-chunk query engines deterministic)."""
    match = _REFINE_RE.search(text)
    return match.group(1).strip() if match else None


def retrieval_answer(text: str) -> str | None:
    """For a LlamaIndex-style QA prompt, the context sentence sharing most words with the query."""
    marker = _CONTEXT_MARKER_RE.search(text)
    if marker is None:
        return None
    after = text[marker.end() :]
    dashes = list(_DASH_LINE_RE.finditer(after))
    if len(dashes) >= 2:
        context, tail = after[dashes[0].end() : dashes[1].start()], after[dashes[1].end() :]
    else:
        split = _QUERY_RE.search(after)
        context, tail = (after[: split.start()], after[split.start() :]) if split else (after, "")
    query_match = _QUERY_RE.search(tail)
    query = query_match.group(1) if query_match else tail.strip().splitlines()[-1] if tail.strip() else ""
    sentences = [
        s.strip()
        for line in context.splitlines()
        if line.strip() and not _METADATA_LINE_RE.match(line)
        for s in _SENTENCE_SPLIT_RE.split(line)
        if s.strip()
    ]
    if not sentences:
        return None
    query_terms = _terms(query)
    best = max(enumerate(sentences), key=lambda item: (len(query_terms & _terms(item[1])), -item[0]))
    return best[1]


def _terms(text: str) -> set[str]:
    """Lower-cased content words with a crude plural strip, for overlap scoring."""
    out: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        if word in STOP_WORDS or len(word) < 3:
            continue
        out.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return out


def keywords(text: str, limit: int = 6) -> list[str]:
    return content_words(text)[:limit]


@dataclass(frozen=True, slots=True)
class Answer:
    """A synthetic answer and the rule that produced it (used in the reasoning text)."""

    text: str
    kind: str


def answer_prompt(prompt: str) -> Answer:
    """The synthetic text answer to a user prompt (refine > retrieval > directive > arithmetic > keywords)."""
    existing = refine_answer(prompt)
    if existing is not None:
        text = existing if existing.startswith(SYNTHETIC_MARKER) else SYNTHETIC_MARKER + existing
        return Answer(text, "refine")
    quoted = retrieval_answer(prompt)
    if quoted is not None:
        return Answer(f'{SYNTHETIC_MARKER}Based on the context: "{quoted}"', "retrieval")
    payload = directive_payload(prompt)
    if payload is not None:
        return Answer(f"{SYNTHETIC_MARKER}{payload}", "echo")
    arithmetic = solve_arithmetic(prompt)
    if arithmetic is not None:
        if arithmetic.value is None:
            text = f"{arithmetic.expression} cannot be computed ({arithmetic.error})."
        else:
            text = f"{arithmetic.expression} = {format_number(arithmetic.value)}"
        return Answer(SYNTHETIC_MARKER + text, "arithmetic")
    words = keywords(prompt)
    if not words:
        return Answer(
            f"{SYNTHETIC_MARKER}Hello! This is a deterministic reply from the local grok-mpp gateway.",
            "greeting",
        )
    return Answer(
        f"{SYNTHETIC_MARKER}You asked about {', '.join(words)}. "
        "This deterministic reply comes from the local grok-mpp gateway, not from Grok.",
        "keywords",
    )


def answer_tool_results(results: Iterable[tuple[str, str]]) -> Answer:
    """Text answer after tool results: ``(tool name, result text)`` pairs, quoted back."""
    parts = [f"{name} returned: {text}" if name else f"the tool returned: {text}" for name, text in results]
    return Answer(f"{SYNTHETIC_MARKER}Using the tool results, " + "; ".join(parts) + ".", "tool-result")


def reasoning_text(prompt: str, kind: str) -> str:
    """Short, deterministic stand-in for ``reasoning_content``."""
    snippet = " ".join(prompt.split())[:120]
    return f"The user asks: {snippet!r}. Synthetic reasoning: answer with the {kind} rule."
