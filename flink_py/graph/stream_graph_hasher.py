"""StreamGraphHasherV2: the stable 16-byte hash of every StreamNode, Flink's way.

An operator's hash is its identity across runs of a job: it becomes the operator's
``OperatorID``, which checkpoints and savepoints map state to, and the hash of a chain's head
becomes the ``JobVertexID``. Flink's scheme (``StreamGraphHasherV2``), mirrored exactly:

* A node with a ``uid`` hashes the uid: murmur3 128-bit (seed 0) of its UTF-8 bytes, as
  Guava's ``Hashing.murmur3_128(0).newHasher().putString(uid, UTF_8).hash().asBytes()``, so
  that a uid gives the same OperatorID as in Flink. Two nodes with the same uid are an error.
* Any other node hashes its place in the graph: the nodes are visited breadth first from the
  sources (sorted by node id), a node only once all its inputs have a hash; its hash is
  murmur3 of ``putInt(n)`` (``n`` = how many nodes were hashed before it, 4 bytes little
  endian), once more ``putInt(n)`` per chainable output edge, and then each input's hash is
  folded in, byte by byte, as ``hash[j] = hash[j] * 37 ^ input_hash[j]``.

So a program built twice, or in two processes, gets the same ids; an operator with a uid
keeps its id when unrelated operators are added; one without a uid keeps it as long as the
topology up to it and its chaining do not change.

>>> murmur3_128(b"").hex()
'00000000000000000000000000000000'
>>> murmur3_128(b"The quick brown fox jumps over the lazy dog").hex()
'6c1b07bc7bbc4be347939ac4a93c437a'
"""

from __future__ import annotations

import collections
import struct
from typing import Callable, Deque, Dict, Set

from flink_py.errors import InvalidProgramError
from flink_py.graph.stream_graph import StreamEdge, StreamGraph, StreamNode

__all__ = ["murmur3_128", "traverse_stream_graph_and_generate_hashes", "user_specified_hash"]

_MASK64 = (1 << 64) - 1
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F


def _rotl64(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK64


def _fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MASK64
    k ^= k >> 33
    return k


def murmur3_128(data: bytes, seed: int = 0) -> bytes:
    """MurmurHash3 x64 128-bit of ``data``, as the 16 bytes Guava's ``asBytes()`` gives
    (``h1`` then ``h2``, each little endian).

    :param data: the bytes to hash.
    :param seed: the seed (Flink uses 0).
    :return: 16 bytes.
    """
    length = len(data)
    h1 = h2 = seed & 0xFFFFFFFF
    blocks = length // 16
    for i in range(blocks):
        k1, k2 = struct.unpack_from("<QQ", data, i * 16)
        k1 = (_rotl64((k1 * _C1) & _MASK64, 31) * _C2) & _MASK64
        h1 ^= k1
        h1 = (_rotl64(h1, 27) + h2) & _MASK64
        h1 = (h1 * 5 + 0x52DCE729) & _MASK64
        k2 = (_rotl64((k2 * _C2) & _MASK64, 33) * _C1) & _MASK64
        h2 ^= k2
        h2 = (_rotl64(h2, 31) + h1) & _MASK64
        h2 = (h2 * 5 + 0x38495AB5) & _MASK64
    tail = data[blocks * 16:]
    k1 = int.from_bytes(tail[:8], "little")
    k2 = int.from_bytes(tail[8:], "little")
    if len(tail) > 8:
        k2 = (_rotl64((k2 * _C2) & _MASK64, 33) * _C1) & _MASK64
        h2 ^= k2
    if tail:
        k1 = (_rotl64((k1 * _C1) & _MASK64, 31) * _C2) & _MASK64
        h1 ^= k1
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _MASK64
    h2 = (h2 + h1) & _MASK64
    h1 = _fmix64(h1)
    h2 = _fmix64(h2)
    h1 = (h1 + h2) & _MASK64
    h2 = (h2 + h1) & _MASK64
    return struct.pack("<QQ", h1, h2)


def user_specified_hash(uid: str) -> bytes:
    """The hash of an operator with a uid (Flink's ``generateUserSpecifiedHash``).

    >>> user_specified_hash("source").hex() == murmur3_128("source".encode("utf-8")).hex()
    True
    """
    return murmur3_128(uid.encode("utf-8"))


def _deterministic_hash(node: StreamNode, hashes: Dict[int, bytes], graph: StreamGraph,
                        is_chainable: Callable[[StreamEdge, StreamGraph], bool]) -> bytes:
    """Flink's ``generateDeterministicHash``: position, chained outputs, then the inputs."""
    position = struct.pack("<i", len(hashes))
    hashed = bytearray(position)
    for edge in node.out_edges:
        if is_chainable(edge, graph):
            # Flink adds the same position again per chained output (not the output's hash).
            hashed += position
    digest = bytearray(murmur3_128(bytes(hashed)))
    for edge in node.in_edges:
        other = hashes[edge.source_id]
        for j in range(len(digest)):
            digest[j] = ((digest[j] * 37) ^ other[j]) & 0xFF
    return bytes(digest)


def traverse_stream_graph_and_generate_hashes(
        graph: StreamGraph, is_chainable: Callable[[StreamEdge, StreamGraph], bool]
) -> Dict[int, bytes]:
    """Every node's 16-byte hash, by node id (Flink's
    ``traverseStreamGraphAndGenerateHashes``).

    :param graph: the StreamGraph.
    :param is_chainable: the chaining rule (the JobGraph generator's), which the hash of a
        node without uid depends on.
    :raises InvalidProgramError: two operators have the same uid.
    """
    hashes: Dict[int, bytes] = {}
    uid_of_hash: Dict[bytes, str] = {}
    visited: Set[int] = set()
    remaining: Deque[StreamNode] = collections.deque()
    for source_id in sorted(n.id for n in graph.sources):
        remaining.append(graph.nodes[source_id])
        visited.add(source_id)
    while remaining:
        node = remaining.popleft()
        if node.uid is not None:
            digest = user_specified_hash(node.uid)
            if digest in uid_of_hash or digest in hashes.values():
                raise InvalidProgramError(
                    f'Hash collision on user-specified ID "{node.uid}". Most likely cause is a '
                    f"non-unique ID. Please check that all IDs specified via `uid(String)` "
                    f"are unique.")
            uid_of_hash[digest] = node.uid
        elif all(e.source_id in hashes for e in node.in_edges):
            digest = _deterministic_hash(node, hashes, graph, is_chainable)
            if digest in hashes.values():
                raise InvalidProgramError(
                    "Hash collision on user-specified ID. Most likely cause is a non-unique "
                    "ID. Please check that all IDs specified via `uid(String)` are unique.")
        else:
            # Revisited when the last of its inputs has been hashed.
            visited.discard(node.id)
            continue
        hashes[node.id] = digest
        for edge in node.out_edges:
            if edge.target_id not in visited:
                remaining.append(graph.nodes[edge.target_id])
                visited.add(edge.target_id)
    return hashes
