"""PII redaction: e-mails, phone numbers (mainland-China mobiles, international), PRC resident
ID numbers (checksum-validated), bank card numbers (Luhn-validated) and IPv4 addresses.

Each match is replaced by a placeholder such as `[EMAIL]`. The log records kind, place and
an HMAC of the value under the home's secret: repeats of one value can be matched, the
value itself is never stored and cannot be recovered from the log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from ownllm.store.tenant_settings import PiiConfig

ROLE_MAILBOXES = frozenset({
    "support", "info", "sales", "service", "contact", "help", "hello", "press", "admin", "office", "hr", "jobs",
    "careers", "marketing", "noreply", "no-reply", "billing", "feedback", "team", "enquiries", "inquiries",
    "orders", "returns", "legal", "privacy", "compliance", "ethics", "finance", "accounts", "invoices", "media",
    "news", "newsletter", "announce", "partners", "dealers", "webmaster", "postmaster", "abuse", "security",
    "customer", "customers", "care",
})
PLACEHOLDERS = {"email": "[EMAIL]", "cn_mobile": "[PHONE]", "phone": "[PHONE]", "cn_id": "[ID_NUMBER]",
                "bank_card": "[CARD_NUMBER]", "ip": "[IP]"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_cn_id(value: str) -> bool:
    digits = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", digits):
        return False
    if not ("19" <= digits[6:8] <= "20") or not ("01" <= digits[10:12] <= "12"):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17]


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


@dataclass(frozen=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[str, PiiConfig], bool]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def is_role_mailbox(local: str) -> bool:
    """A mailbox of a function, not of a person: "support", and the regional forms a company runs many of
    ("service-sh", "sales.eu", "customer.service": a role word first, then only role words or short tags).

    A person's address is redacted even with a role word in it ("zhang.sales", "anna-hr", "steve.jobs"), and
    a plus tag ("jane+orders") always sits on a personal mailbox, so it is judged without the tag.
    """
    local = local.lower().split("+", 1)[0]
    first, *tags = re.split(r"[._-]", local)
    return local in ROLE_MAILBOXES or (first in ROLE_MAILBOXES
                                       and all(len(tag) <= 3 or tag in ROLE_MAILBOXES for tag in tags))


def _email_ok(value: str, config: PiiConfig) -> bool:
    return not (config.keep_role_emails and is_role_mailbox(value.split("@", 1)[0]))


# order matters: ID numbers before card numbers (an ID can pass Luhn by chance)
DETECTORS = [
    Detector("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), _email_ok),
    Detector("cn_id", re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"), lambda v, _: valid_cn_id(v)),
    Detector("bank_card", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"),
             lambda v, _: 13 <= len(_digits(v)) <= 19 and luhn_valid(_digits(v))),
    Detector("cn_mobile", re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"),
             lambda v, _: True),
    Detector("phone", re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\d)"),
             lambda v, _: 8 <= len(_digits(v)) <= 15),
    Detector("ip", re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"),
             lambda v, _: True),
]


@dataclass(frozen=True)
class RedactedSpan:
    kind: str
    start: int  # in the redacted text: the placeholder's span
    end: int
    value_hmac: str


def redact(text: str, config: PiiConfig, secret: bytes) -> tuple[str, list[RedactedSpan]]:
    if not config.enabled:
        return text, []
    kinds = set(config.kinds)
    found: list[tuple[int, int, str, str]] = []
    for detector in DETECTORS:
        if detector.kind not in kinds:
            continue
        for match in detector.pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e, _, _ in found):
                continue
            if detector.accept(match.group(), config):
                found.append((start, end, detector.kind, match.group()))
    if not found:
        return text, []
    found.sort()
    out, spans, cursor = [], [], 0
    for start, end, kind, value in found:
        out.append(text[cursor:start])
        position = sum(len(piece) for piece in out)
        placeholder = PLACEHOLDERS[kind]
        out.append(placeholder)
        digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        spans.append(RedactedSpan(kind, position, position + len(placeholder), digest))
        cursor = end
    out.append(text[cursor:])
    return "".join(out), spans
