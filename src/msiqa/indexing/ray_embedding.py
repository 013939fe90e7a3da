"""Embedding with Ray Data (`pip install -e ".[ray]"`): `map_batches` over a fixed pool of actors.

`RayEmbedder` has the `Embedder` interface, so a build uses it unchanged (`msiqa build --ray ...`). Each
actor checks the model weights' sha256 and loads the model once, then embeds batches of rows; rows carry
their position and are put back in input order, so the vectors are those of a local build (up to float
rounding from other batch padding). The same code runs on a laptop (`local`: `ray.init()` starts a
cluster in this process, one actor per CPU core unless told) and on a cluster (`auto` or an address:
every node needs msiqa and the model package installed). Ray moves the rows and vectors between
processes with its own serialisation; msiqa itself still never unpickles a file.
Deliberately left out: chunking (done once, on the driver) and the query-time embedder (local, always).
"""

from __future__ import annotations

import logging

import numpy as np

from msiqa.errors import StoreUnavailable
from msiqa.indexing.embedding import ModelFiles, load_embedder
from msiqa.indexing.tokens import TokenVectors

log = logging.getLogger(__name__)

BATCH_ROWS = 256  # rows per map_batches call: big enough to amortise scheduling, small enough to balance


class EmbedActor:
    """One pool member: loads the verified model once, then embeds batches."""

    def __init__(self, model: str, weights_sha256: str, device: str, threads: int, tokens: bool) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.embedder = load_embedder(model, weights_sha256, device)
        self.tokens = tokens

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        if not self.tokens:
            return {"row": batch["row"], "vector": self.embedder.encode(texts)}
        vectors, tokens = self.embedder.encode_with_tokens(texts)
        ragged = np.empty(len(tokens), dtype=object)  # Ray carries variable-shaped tensors as such
        ragged[:] = [t.vectors for t in tokens]
        pieces = np.asarray([" ".join(t.pieces) for t in tokens], dtype=object)
        return {"row": batch["row"], "vector": vectors, "tokens": ragged, "pieces": pieces}


def start_ray(address: str, num_cpus: int | None = None) -> None:
    """`local`: a new local cluster; `auto`: the cluster this machine belongs to (RAY_ADDRESS); else an
    address such as ray://head:10001."""
    try:
        import ray
    except ImportError as exc:
        raise StoreUnavailable('Ray is not installed. Fix: pip install -e ".[ray]"') from exc
    if ray.is_initialized():
        return
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address == "local":  # the workers inherit this process's environment (PYTHONPATH included)
        ray.init(num_cpus=num_cpus, **kwargs)
    else:
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise StoreUnavailable(f"Cannot join the Ray cluster at {address!r}: {exc}") from exc


class RayEmbedder:
    """An `Embedder` whose `encode` runs on a Ray actor pool (`actors` members, `cpus_per_actor` each)."""

    def __init__(
        self,
        files: ModelFiles,
        dim: int,
        device: str = "cpu",
        actors: int | None = None,
        cpus_per_actor: int = 1,
    ) -> None:
        import ray

        self.model_id = files.model_id
        self.weights_sha256 = files.weights_sha256
        self.dim = dim
        self.device = device
        self.cpus_per_actor = cpus_per_actor
        self.actors = actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_actor)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._run(texts, tokens=False)[0]

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 32
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        return self._run(texts, tokens=True)

    def _run(self, texts: list[str], tokens: bool) -> tuple[np.ndarray, list[TokenVectors]]:
        import ray

        rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        embedded = rows.map_batches(
            EmbedActor,
            fn_constructor_kwargs={
                "model": self.model_id,
                "weights_sha256": self.weights_sha256,
                "device": self.device,
                "threads": self.cpus_per_actor,
                "tokens": tokens,
            },
            batch_size=BATCH_ROWS,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=min(self.actors, -(-len(texts) // BATCH_ROWS))),
            num_cpus=self.cpus_per_actor,
            num_gpus=1 if self.device.startswith("cuda") else None,
        )
        order, vectors, token_sets = [], [], []
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            order.append(batch["row"])
            vectors.append(batch["vector"])
            if tokens:
                token_sets += [
                    TokenVectors(tuple(str(p).split()), np.asarray(v, dtype=np.float32))
                    for p, v in zip(batch["pieces"], batch["tokens"], strict=True)
                ]
        rows_back = np.concatenate(order)
        if len(rows_back) != len(texts) or len(np.unique(rows_back)) != len(texts):
            raise StoreUnavailable(f"Ray returned {len(rows_back)} vectors for {len(texts)} texts.")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[rows_back] = np.concatenate(vectors)
        log.info("embedded %d texts on %d Ray actors", len(texts), self.actors)
        if not tokens:
            return out, []
        in_order: list[TokenVectors] = [TokenVectors((), np.zeros((0, self.dim)))] * len(texts)
        for row, token_set in zip(rows_back, token_sets, strict=True):
            in_order[int(row)] = token_set
        return out, in_order
