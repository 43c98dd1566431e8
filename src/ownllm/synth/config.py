"""What a synth run does, validated up front so a typo fails before any work starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SynthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facts: bool = True  # extractive fact questions (no model needed)
    teacher: bool = False  # teacher-written Q/A pairs (free text, parsed leniently)
    natural: bool = False  # teacher-written facts, each asked in several phrasings (JSON by grammar)
    natural_per_chunk: int = Field(3, ge=1, le=8)
    multihop: int = Field(0, ge=0, le=2000)  # questions across two documents that name the same thing
    unanswerable: int = Field(0, ge=0, le=2000)  # questions the text does not answer, taught as declines
    entigraph: int = Field(0, ge=0, le=2000)  # chunks whose entities get relation passages (CPT text)
    judge_sample: int = Field(0, ge=0, le=500)  # kept and removed pairs the teacher grades (counts stored)
    passages: bool = True  # CPT text + continuation records
    paraphrase: bool = False  # teacher rewordings as extra CPT text (needs the teacher)
    raft: bool = True
    grounded: bool = True  # training questions also asked in the served RAG prompt (synth/grounded.py)
    # that prompt's form: whole passages (a base that reads them) or sentences; default: the tenant's base's
    grounded_passages: bool | None = None
    replay: bool = True  # the base model's own answers to general prompts, against forgetting
    replay_prompts: int = Field(40, ge=1, le=40)
    teacher_url: str | None = None  # OpenAI-compatible base URL, e.g. http://host:8000/v1
    teacher_model: str | None = None  # default: the tenant's teacher
    replay_model: str | None = None  # whose answers are replayed; default: the tenant's base to tune
    teacher_api_key: str | None = None
    pairs_per_chunk: int = Field(3, ge=1, le=20)
    heldout_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    raft_distractors: int = Field(3, ge=0, le=10)
    raft_oracle_p: float = Field(0.8, ge=0.0, le=1.0)
    seed: int = 0
    max_chunks: int | None = Field(None, ge=1)

    @property
    def needs_teacher(self) -> bool:
        """Whether any generator asked for calls the teacher (each is silently empty without one)."""
        return bool(self.teacher or self.natural or self.paraphrase or self.multihop or self.unanswerable
                    or self.entigraph or self.judge_sample)
