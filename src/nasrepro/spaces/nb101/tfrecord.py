"""TFRecord framing without TensorFlow: stream records out of a file, write them back atomically.

Each record on disk is

    length        uint64, little-endian
    length CRC    uint32, little-endian: masked CRC-32C of the 8 length bytes
    data          `length` bytes
    data CRC      uint32, little-endian: masked CRC-32C of the data

with masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32). There is no file header or
footer: a file is records back to back, and an empty file holds no records.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

import google_crc32c

from nasrepro.errors import NasReproError
from nasrepro.io import atomic_path

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")  # length, masked CRC of the length
_FOOTER = struct.Struct("<I")  # masked CRC of the data
_BUFFER = 1 << 20


def crc32c(data: bytes) -> int:
    """The plain (unmasked) CRC-32C of `data`."""
    return google_crc32c.value(bytes(data))


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = google_crc32c.value(bytes(data))
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def iter_records(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """Yield (record number from 0, data bytes) of every record, streaming through a buffered file.

    Both CRCs of every record are checked. A CRC mismatch or a file that ends inside a record raises
    NasReproError with one line naming the file and the record number.
    """
    path = Path(path)
    try:
        with open(path, "rb", buffering=_BUFFER) as handle:
            yield from _records(path, handle)
    except OSError as error:
        raise NasReproError(f"{path}: cannot read ({error.strerror or error})") from None


def _records(path: Path, handle) -> Iterator[tuple[int, bytes]]:
    value = google_crc32c.value
    unpack_header = _HEADER.unpack
    unpack_footer = _FOOTER.unpack
    size = os.fstat(handle.fileno()).st_size
    read = handle.read
    position = 0
    number = 0
    while True:
        header = read(12)
        if len(header) != 12:
            if not header:
                return
            raise _error(path, number, f"file ends inside the record header ({len(header)} of 12 bytes)")
        length, length_crc = unpack_header(header)
        crc = value(header[:8])
        if ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF != length_crc:
            raise _error(path, number, "length CRC mismatch (file is corrupt)")
        position += 12
        if length + 4 > size - position:
            left = size - position
            where = f"data ({left} of {length} bytes)" if left < length else f"footer ({left - length} of 4 bytes)"
            raise _error(path, number, f"file ends inside the record {where} (file is incomplete)")
        data = read(length)
        footer = read(4)
        if len(data) != length or len(footer) != 4:  # the file shrank while being read
            raise _error(path, number, "file ends inside the record (file is incomplete)")
        position += length + 4
        crc = value(data)
        if ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF != unpack_footer(footer)[0]:
            raise _error(path, number, "data CRC mismatch (file is corrupt)")
        yield number, data
        number += 1

def write_records(path: str | os.PathLike, records: Iterable[bytes]) -> int:
    """Write `records` as a TFRecord file; the file appears whole or not at all. Returns the count."""
    count = 0
    with atomic_path(path) as tmp, open(tmp, "wb", buffering=_BUFFER) as handle:
        write = handle.write
        for data in records:
            data = bytes(data)
            length = struct.pack("<Q", len(data))
            write(length)
            write(_FOOTER.pack(masked_crc32c(length)))
            write(data)
            write(_FOOTER.pack(masked_crc32c(data)))
            count += 1
    return count


def _error(path: Path, number: int, what: str) -> NasReproError:
    return NasReproError(f"{path}: record {number}: {what}")
