"""A small document model for the sample generator: units of blocks, with facts pinned to them.

Authoring a document through `DocBuilder` records, for every fact, the unit (page,
slide, sheet) and heading it was written under, so `facts.jsonl` can say exactly
where each answer sits. Renderers turn the same spec into PDF, DOCX, HTML, ….
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Fact:
    question: str
    answer: str
    lang: str
    source: str
    unit: str
    unit_number: int | None
    heading: str | None
    evidence: str


@dataclass
class SBlock:
    kind: str  # heading | para | table | bullets | notes
    text: str = ""
    level: int = 1
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class SUnit:
    kind: str
    number: int | None
    title: str = ""
    blocks: list[SBlock] = field(default_factory=list)


@dataclass
class DocSpec:
    name: str
    fmt: str
    lang: str
    title: str
    units: list[SUnit] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)


class DocBuilder:
    def __init__(self, name: str, fmt: str, lang: str, title: str, unit_kind: str = "section") -> None:
        self.spec = DocSpec(name, fmt, lang, title)
        self.unit_kind = unit_kind
        self._heading: str | None = None
        if unit_kind == "section":
            self.spec.units.append(SUnit("section", None))

    @property
    def unit(self) -> SUnit:
        return self.spec.units[-1]

    def new_unit(self, title: str = "", number: int | None = None) -> DocBuilder:
        """Start a page, slide or sheet, numbered from 1 in order (a recording's: by its start second)."""
        self.spec.units.append(SUnit(self.unit_kind, len(self.spec.units) + 1 if number is None else number, title))
        self._heading = title or self._heading
        return self

    def heading(self, text: str, level: int = 1) -> DocBuilder:
        self.unit.blocks.append(SBlock("heading", text, level))
        self._heading = text
        return self

    def para(self, text: str, *facts: tuple[str, str]) -> DocBuilder:
        self.unit.blocks.append(SBlock("para", text))
        self._pin(text, facts)
        return self

    def notes(self, text: str, *facts: tuple[str, str]) -> DocBuilder:
        self.unit.blocks.append(SBlock("notes", text))
        self._pin(text, facts)
        return self

    def bullets(self, items: list[str], *facts: tuple[str, str]) -> DocBuilder:
        self.unit.blocks.append(SBlock("bullets", items=items))
        self._pin("\n".join(items), facts)
        return self

    def table(self, rows: list[list[str]], *facts: tuple[str, str]) -> DocBuilder:
        self.unit.blocks.append(SBlock("table", rows=rows))
        self._pin("\n".join(" | ".join(r) for r in rows), facts)
        return self

    def _pin(self, evidence: str, facts: tuple[tuple[str, str], ...]) -> None:
        for question, answer in facts:
            if answer not in evidence:
                raise ValueError(f"{self.spec.name}: answer {answer!r} is not in its evidence")
            self.spec.facts.append(Fact(question, answer, self.spec.lang, self.spec.name, self.unit.kind,
                                        self.unit.number, self._heading, evidence))
