"""The payload ring: the shared-memory file through which ``infer``'s inputs and outputs travel
(``load --payload host``; docs/protocol.md, ``payload_open``).

This module is the file's one owner: it creates it, lays it out, pins it on CUDA, hands out
views of a slot's blocks and closes it (``unload``, ``shutdown``, EOF, a second
``payload_open``, process exit). The orchestrator maps the same file, copies each batch's
requests into a free slot and reads the outputs back from it. Offsets are bytes from the start
of the file; every block starts at a multiple of 64:

    pool 0 (the loaded shape) | pool 1 (lengths[0]) | ... | slot 0 | slot 1 | ...

A pool holds ``count`` samples one after another; a sample is each input's bytes at the pool's
length in turn, unaligned. A slot is its input area (input i's block of R rows, block i+1 at
the next multiple of 64 after block i), then its output area (the same, output by output).
Nothing here imports torch unless a torch model asks for tensor views.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import gc
import itertools
import math
import mmap
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import InferResult, PayloadArgs, PayloadInput, PayloadOpenResult, WorkerError, bad_request

if TYPE_CHECKING:
    import torch

    from .zoo import Inputs

ALIGN = 64
FILE_PREFIX = "inferbench-payload-"
# Tensor views of the ring kept for reuse (a slot's blocks at a batch shape recur every call).
MAX_VIEWS = 1024


def align64(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _log(message: str) -> None:
    print(f"[inferbench-worker] {message}", file=sys.stderr, flush=True)


# --- layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """One input of the model, per sample."""

    name: str | None  # a keyword argument's name; None: positional
    dtype: str  # torch's name for it without "torch.": uint8, float16, int64, ...
    itemsize: int
    shape: tuple[int, ...]  # at the loaded length
    length_dims: tuple[int, ...] = ()  # the dims of ``shape`` that are the length axis

    def shape_at(self, length: int | None) -> tuple[int, ...]:
        if length is None:
            return self.shape
        return tuple(length if d in self.length_dims else n for d, n in enumerate(self.shape))

    def sample_bytes(self, length: int | None) -> int:
        return math.prod(self.shape_at(length)) * self.itemsize

    @property
    def token_row(self) -> bool:
        """A 1-D input along the length axis (token ids, a mask): a shorter row is a prefix."""
        return len(self.shape) == 1 and self.length_dims == (0,)


@dataclass(frozen=True)
class Pool:
    length: int | None  # None: the loaded shape
    offset: int
    count: int
    sample_bytes: tuple[int, ...]  # per input, at ``length``

    @property
    def nbytes(self) -> int:
        return self.count * sum(self.sample_bytes)


@dataclass(frozen=True)
class Block:
    """One input's rows in a slot, at ``offset`` in the file; ``shape`` is [R, *sample shape]."""

    offset: int
    shape: tuple[int, ...]
    spec: InputSpec

    @property
    def row_bytes(self) -> int:
        return math.prod(self.shape[1:]) * self.spec.itemsize

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.row_bytes


@dataclass(frozen=True)
class Layout:
    inputs: tuple[InputSpec, ...]
    loaded_length: int | None  # what a length of None stands for; None: the model has no length axis
    pools: tuple[Pool, ...]
    slots: int
    slots_offset: int
    slot_stride: int
    input_capacity: int
    output_offset: int  # within a slot
    output_capacity: int

    @property
    def size(self) -> int:
        return self.slots_offset + self.slots * self.slot_stride

    @staticmethod
    def plan(inputs: Sequence[InputSpec], loaded_length: int | None, lengths: Sequence[int], count: int,
             slots: int, max_batch: int, output_sample_bytes: Sequence[int]) -> Layout:
        """Pools at the loaded shape and at each of ``lengths``; slots for ``max_batch`` samples
        of the largest of those shapes, and for their outputs (``output_sample_bytes``: each
        output's bytes for one sample at the longest length), with 64 bytes to spare an output."""
        pool_lengths = (None, *lengths)
        pools: list[Pool] = []
        offset = 0
        for length in pool_lengths:
            pool = Pool(length, offset, count, tuple(s.sample_bytes(length) for s in inputs))
            pools.append(pool)
            offset = align64(offset + pool.nbytes)
        input_capacity = sum(align64(max_batch * max(s.sample_bytes(n) for n in pool_lengths)) for s in inputs)
        output_capacity = sum(align64(max_batch * n) + ALIGN for n in output_sample_bytes)
        output_offset = align64(input_capacity)
        return Layout(tuple(inputs), loaded_length, tuple(pools), slots, slots_offset=offset,
                      slot_stride=output_offset + align64(output_capacity), input_capacity=input_capacity,
                      output_offset=output_offset, output_capacity=output_capacity)

    def blocks(self, base: int, size: int, length: int | None) -> tuple[Block, ...]:
        """The input blocks of a batch of ``size`` rows at ``length`` in the slot at ``base``."""
        at = self._block_length(length)
        blocks: list[Block] = []
        offset = end = 0
        for spec in self.inputs:
            block = Block(base + offset, (size, *spec.shape_at(at)), spec)
            blocks.append(block)
            end = offset + block.nbytes
            offset = align64(end)
        if end > self.input_capacity:
            raise bad_request(f"infer: a payload batch of {size} at {_length_text(length)} needs {end:,} bytes; a ring "
                              f"slot holds {self.input_capacity:,} (payload_open's max_batch and lengths)")
        return tuple(blocks)

    def _block_length(self, length: int | None) -> int | None:
        """The length a batch's blocks are at (None: the loaded shape). A length the pools have
        no samples at is refused, but for token rows, which are prefixes of a longer sample."""
        if length is None or length == self.loaded_length or not any(s.length_dims for s in self.inputs):
            return None
        listed = [p.length for p in self.pools if p.length is not None]
        if length in listed:
            return length
        longest = max([self.loaded_length or 0, *listed])
        if all(s.token_row for s in self.inputs if s.length_dims) and length <= longest:
            return length
        have = ", ".join([f"{self.loaded_length} (loaded)", *map(str, listed)])
        raise bad_request(f"infer: the payload ring has no samples at length {length} (it has {have}); "
                          "list it in payload_open's lengths")


def _length_text(length: int | None) -> str:
    return "the loaded length" if length is None else f"length {length}"


# --- the file -------------------------------------------------------------------------

_names = itertools.count()
_open: set[Ring] = set()  # closed at exit, if nothing closed them before


class Ring:
    """The mapped file. Only the reading thread creates, views and closes it; completion
    threads of pipelined calls write outputs into their own slots."""

    def __init__(self, layout: Layout, path: str, mapping: mmap.mmap) -> None:
        self.layout = layout
        self.path = path
        self._mm: mmap.mmap | None = mapping
        self._bytes: torch.Tensor | None = None  # the whole file as uint8, made on first use
        self._views: dict[tuple[int, str, tuple[int, ...]], torch.Tensor] = {}
        self._pinned_at: int | None = None  # the address cudaHostRegister pinned
        # Each output of one sample at the loaded shape ({"name", "dtype", "itemsize", "shape"}),
        # so that the orchestrator can hand each request its own rows (inferbench serve).
        self.outputs: list[PayloadInput] = []

    @property
    def pinned(self) -> bool:
        return self._pinned_at is not None

    @staticmethod
    def create(layout: Layout, pin: bool) -> Ring:
        """Creates, sizes and maps the file (in /dev/shm where there is one), registered with
        CUDA as page-locked memory when ``pin``, so that copies to and from it are DMA."""
        directory = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        while True:  # a file of a dead process with this pid may be left: take the next name
            path = os.path.join(directory, f"{FILE_PREFIX}{os.getpid()}-{next(_names)}")
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                continue
        try:
            _reserve(fd, layout.size, directory)
            mapping = mmap.mmap(fd, layout.size)
        except BaseException:
            os.unlink(path)
            raise
        finally:
            os.close(fd)  # the mapping keeps the file
        ring = Ring(layout, path, mapping)
        _open.add(ring)
        if pin:
            ring._pinned_at = _pin(mapping, layout.size)
        return ring

    def describe(self) -> PayloadOpenResult:
        """``payload_open``'s reply."""
        lay = self.layout
        return {
            "path": self.path,
            "size": lay.size,
            "pinned": self.pinned,
            "inputs": [{"name": s.name, "dtype": s.dtype, "itemsize": s.itemsize, "shape": list(s.shape)}
                       for s in lay.inputs],
            "length_dims": [list(s.length_dims) for s in lay.inputs],
            "pools": [{"length": p.length, "offset": p.offset, "count": p.count, "sample_bytes": list(p.sample_bytes)}
                      for p in lay.pools],
            "slots_offset": lay.slots_offset,
            "slot_stride": lay.slot_stride,
            "input_capacity": lay.input_capacity,
            "output_offset": lay.output_offset,
            "output_capacity": lay.output_capacity,
            "outputs": self.outputs,
        }

    def batch(self, args: PayloadArgs, size: int, length: int | None) -> Batch:
        """An ``infer``'s share of the ring: slot ``args.slot`` holding ``size`` rows at ``length``
        (None: the loaded one), the first ``args.rows`` real. Refuses what the slot cannot hold."""
        lay = self.layout
        if args.slot >= lay.slots:
            raise bad_request(f"infer: payload slot {args.slot} is out of range: the ring has {lay.slots} slot(s)")
        if args.rows > size:
            raise bad_request(f"infer: payload rows ({args.rows}) must not exceed the batch size ({size})")
        base = lay.slots_offset + args.slot * lay.slot_stride
        return Batch(self, args.rows, size, length, lay.blocks(base, size, length), base + lay.output_offset,
                     lay.output_capacity, args.checksum)

    def _map(self) -> mmap.mmap:
        if self._mm is None:
            raise bad_request("the payload ring is closed: send payload_open again")
        return self._mm

    def write(self, offset: int, data: bytes) -> None:
        self._map()[offset:offset + len(data)] = data

    def read(self, offset: int, nbytes: int) -> bytes:
        return self._map()[offset:offset + nbytes]

    def crc32(self, spans: Sequence[tuple[int, int]]) -> int:
        """zlib's CRC-32 of the (offset, nbytes) spans, chained in order."""
        crc = 0
        with memoryview(self._map()) as view:
            for offset, nbytes in spans:
                crc = zlib.crc32(view[offset:offset + nbytes], crc)
        return crc

    def tensor(self, offset: int, dtype: str, shape: Sequence[int]) -> torch.Tensor:
        """A CPU tensor viewing the file at ``offset`` (a multiple of the dtype's size); kept, as
        making one costs a few torch calls per block and call."""
        key = (offset, dtype, tuple(shape))
        view = self._views.get(key)
        if view is not None:
            return view
        import torch

        if self._bytes is None:
            self._bytes = _byte_tensor(self._map())
        kind: torch.dtype = getattr(torch, dtype)
        view = self._bytes[offset:offset + math.prod(shape) * kind.itemsize].view(kind).view(key[2])
        if len(self._views) >= MAX_VIEWS:
            self._views.clear()
        self._views[key] = view
        return view

    def close(self) -> None:
        """Removes the file, unregisters and unmaps it; a second close does nothing."""
        mapping, self._mm = self._mm, None
        if mapping is None:
            return
        _open.discard(self)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        if self._pinned_at is not None:
            _unpin(self._pinned_at)
            self._pinned_at = None
        self._bytes = None  # it (and every view of it) holds an export of the mapping
        self._views.clear()
        try:
            mapping.close()
        except BufferError:
            gc.collect()  # a view kept by a reference cycle (an error's traceback)
            try:
                mapping.close()
            except BufferError:  # unmapped when the last view goes, never under it
                _log("payload ring: a view of it is still held; it is unmapped when that goes")


def close_all() -> None:
    """Closes every ring still open: the files must not outlive the worker."""
    for ring in list(_open):
        ring.close()


atexit.register(close_all)


def _byte_tensor(mapping: mmap.mmap) -> torch.Tensor:
    """The mapping as one uint8 tensor, through numpy: numpy's array holds a buffer export, so
    the mapping cannot be unmapped while any view of it lives (``torch.frombuffer`` holds none,
    and a view used after the unmap would crash the worker)."""
    import torch

    try:
        import numpy
    except ImportError:
        return torch.frombuffer(mapping, dtype=torch.uint8)
    return torch.from_numpy(numpy.frombuffer(mapping, dtype=numpy.uint8))


def _reserve(fd: int, size: int, directory: str) -> None:
    """Gives the file its size with its pages reserved: on a full tmpfs the first touch of a
    sparse file's page kills the process (SIGBUS), where ``posix_fallocate`` fails here."""
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, size)
        else:
            os.ftruncate(fd, size)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EFBIG):
            raise
        free = shutil.disk_usage(directory).free
        raise WorkerError("unsupported", f"payload_open: a ring of {size:,} bytes does not fit in {directory} "
                                         f"({free:,} bytes free); ask for fewer slots, samples or a smaller "
                                         "max_batch") from None


def _pin(mapping: mmap.mmap, size: int) -> int | None:
    """Registers the mapping with CUDA as page-locked memory; its address, or None when CUDA
    refuses (the copies then go through pageable memory, and the reply says so)."""
    import torch

    view = ctypes.c_char.from_buffer(mapping)
    address = ctypes.addressof(view)
    del view  # an exported buffer would keep the mapping from closing
    try:
        status = int(torch.cuda.cudart().cudaHostRegister(address, size, 0))
    except Exception as exc:
        _log(f"payload ring: cudaHostRegister failed ({type(exc).__name__}: {exc}); its copies are pageable")
        return None
    if status != 0:
        _log(f"payload ring: cudaHostRegister failed (cudaError {status}); its copies are pageable")
        _clear_cuda_error()
        return None
    return address


def _unpin(address: int) -> None:
    try:
        import torch

        torch.cuda.synchronize()  # no copy may still read or write the pages
        torch.cuda.cudart().cudaHostUnregister(address)
    except Exception as exc:  # at exit CUDA may be gone already; the pages go with the mapping
        _log(f"payload ring: cudaHostUnregister failed ({type(exc).__name__}: {exc})")


def _clear_cuda_error() -> None:
    """Resets the CUDA runtime's last error, which a failed call leaves set: torch reads it after
    its next kernel launch and would fail there. torch's bindings have no cudaGetLastError; the
    runtime torch loaded is found by its soname (best effort)."""
    import torch

    major = (torch.version.cuda or "").split(".")[0]
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(f"libcudart.so.{major}").cudaGetLastError()


# --- one infer's share ----------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    ring: Ring
    rows: int  # the real rows; the rest of each block is padding
    size: int  # the rows of every block: the batch size the model runs at
    length: int | None  # as infer gave it (None: the loaded one)
    blocks: tuple[Block, ...]
    output_offset: int  # in the file
    output_capacity: int
    checksum: bool

    def checksum_value(self) -> int | None:
        """CRC-32 of the real rows' bytes, block by block, as they arrived (None: not asked)."""
        if not self.checksum:
            return None
        return self.ring.crc32([(b.offset, self.rows * b.row_bytes) for b in self.blocks])

    def output_offsets(self, sizes: Sequence[int]) -> list[int]:
        """Where outputs of ``sizes`` bytes go (each at a multiple of 64); refuses outputs the
        slot cannot hold before anything is written."""
        offsets: list[int] = []
        offset = end = 0
        for n in sizes:
            offsets.append(self.output_offset + offset)
            end = offset + n
            offset = align64(end)
        if end > self.output_capacity:
            raise bad_request(f"infer: the outputs of a payload batch of {self.size} at {_length_text(self.length)} "
                              f"need {end:,} bytes; a ring slot holds {self.output_capacity:,} (payload_open's "
                              "max_batch)")
        return offsets

    def read_inputs(self) -> list[bytes]:
        return [self.ring.read(b.offset, b.nbytes) for b in self.blocks]

    def input_views(self) -> list[torch.Tensor]:
        return [self.ring.tensor(b.offset, b.spec.dtype, b.shape) for b in self.blocks]

    def write_outputs(self, tensors: Sequence[torch.Tensor], non_blocking: bool) -> int:
        """Copies each output, contiguous, into the slot's output area; returns the bytes written."""
        import torch

        flat = [t.contiguous().reshape(-1).view(torch.uint8) for t in tensors]
        for f, offset in zip(flat, self.output_offsets([f.numel() for f in flat]), strict=True):
            self.ring.tensor(offset, "uint8", (f.numel(),)).copy_(f, non_blocking=non_blocking)
        return sum(f.numel() for f in flat)


def with_checksum(result: InferResult, checksum: int | None) -> InferResult:
    if checksum is not None:
        result["checksum"] = checksum
    return result


# --- a torch model's inputs -----------------------------------------------------------


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def named(inputs: Inputs) -> list[tuple[str | None, Any]]:
    """An input set's values in call order: positional ones (name None), then keyword ones."""
    if isinstance(inputs, dict):
        return list(inputs.items())
    return [(None, v) for v in inputs]


def input_specs(one: Inputs, two: Inputs, other: Inputs | None) -> tuple[InputSpec, ...]:
    """The model's inputs per sample, from input sets at batch 1 and 2 at the loaded length,
    and the length axis from a set at batch 1 at another length (``other``; None: no axis).
    Every input must be a tensor whose first dim is the batch: rows are gathered per request."""
    import torch

    others = named(other) if other is not None else None
    specs: list[InputSpec] = []
    for i, ((name, a), (_, b)) in enumerate(zip(named(one), named(two), strict=True)):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dim() > 0 and a.shape[0] == 1
                and b.shape[0] == 2 and a.shape[1:] == b.shape[1:]):
            raise _unbatched(name or f"input {i}", f"{_describe(a)} at batch 1 and {_describe(b)} at batch 2")
        dims: tuple[int, ...] = ()
        if others is not None:
            c = others[i][1]
            if isinstance(c, torch.Tensor) and c.dim() == a.dim():
                dims = tuple(d - 1 for d in range(1, a.dim()) if a.shape[d] != c.shape[d])
        specs.append(InputSpec(name, dtype_name(a.dtype), a.element_size(), tuple(a.shape[1:]), dims))
    return tuple(specs)


def sample_rows(inputs: Inputs, specs: Sequence[InputSpec], count: int, length: int | None) -> torch.Tensor:
    """``count`` samples as the rows of one uint8 tensor, each input's bytes in turn: a pool."""
    import torch

    parts = []
    for i, ((name, t), spec) in enumerate(zip(named(inputs), specs, strict=True)):
        want = (count, *spec.shape_at(length))
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != want or dtype_name(t.dtype) != spec.dtype:
            raise _unbatched(name or f"input {i}", f"{_describe(t)} for {count} samples at {_length_text(length)}, "
                                                   f"not {spec.dtype}{list(want)}")
        parts.append(t.contiguous().reshape(count, math.prod(want[1:])).view(torch.uint8))
    return torch.cat(parts, dim=1)


# The most bytes of samples a payload file may give (they are copied into the ring's pool).
MAX_FILE_BYTES = 1 << 30


def file_samples(path: str, specs: Sequence[InputSpec]) -> tuple[list[torch.Tensor], int]:
    """Samples from a ``.npy`` file (a model with one input) or a ``.npz`` file (an array per
    input, by the keyword's name, or ``arg0``, ``arg1``, ... for positional ones): each array is
    [N, *sample shape], or one sample without the N. A token row may be shorter than the loaded
    length (it is padded with zeros, as a tokenizer pads). Floats are cast to a float input's
    dtype and integers to an integer input's; anything else is a ``bad_request`` naming the fix."""
    import numpy as np

    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise bad_request(f"--payload-file {path}: not a .npy or .npz file numpy can read ({exc})") from exc
    keys = [spec.name or f"arg{i}" for i, spec in enumerate(specs)]
    if isinstance(data, np.ndarray):
        if len(specs) != 1:
            raise bad_request(f"--payload-file {path}: the model takes {len(specs)} inputs ({', '.join(keys)}); "
                              "give a .npz file with an array for each")
        arrays = [data]
    else:
        missing = [k for k in keys if k not in data.files]
        if missing:
            raise bad_request(f"--payload-file {path}: no array named {', '.join(missing)} "
                              f"(the file has {', '.join(data.files) or 'none'}; the model takes {', '.join(keys)})")
        arrays = [data[k] for k in keys]
    tensors = [_file_input(path, key, a, spec) for key, a, spec in zip(keys, arrays, specs, strict=True)]
    counts = {t.shape[0] for t in tensors}
    if len(counts) != 1:
        raise bad_request(f"--payload-file {path}: the inputs hold different numbers of samples ({sorted(counts)})")
    if sum(t.numel() * t.element_size() for t in tensors) > MAX_FILE_BYTES:
        raise bad_request(f"--payload-file {path}: over {MAX_FILE_BYTES >> 30} GiB of samples; give fewer")
    return tensors, tensors[0].shape[0]


def _file_input(path: str, key: str, a: Any, spec: InputSpec) -> torch.Tensor:
    import numpy as np
    import torch

    want = f"{spec.dtype}[N, {', '.join(map(str, spec.shape))}]"
    if a.ndim == len(spec.shape):
        a = a[None]
    shape = tuple(a.shape[1:])
    short_row = spec.token_row and len(shape) == 1 and 0 < shape[0] <= spec.shape[0]
    if a.ndim != len(spec.shape) + 1 or a.shape[0] < 1 or (shape != spec.shape and not short_row):
        raise bad_request(f"--payload-file {path}: {key} is {a.dtype}{list(a.shape)}; the model takes {want}")
    dtype = getattr(torch, spec.dtype)
    floating = np.issubdtype(a.dtype, np.floating)
    integral = np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_
    if (dtype.is_floating_point and not floating) or (not dtype.is_floating_point and not integral):
        raise bad_request(f"--payload-file {path}: {key} is {a.dtype}; the model takes {spec.dtype} ({want})")
    t = torch.from_numpy(np.ascontiguousarray(a)).to(dtype)
    if short_row and shape[0] < spec.shape[0]:
        t = torch.nn.functional.pad(t, (0, spec.shape[0] - shape[0]))
    return t


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is None:
        return type(value).__name__
    return f"{dtype_name(value.dtype)}{list(shape)}"


def _unbatched(what: str, found: str) -> WorkerError:
    return WorkerError("unsupported", f"--payload host sends each request's rows, so every input must be a tensor "
                                      f"whose first dimension is the batch; {what} is {found}: use --payload device")
