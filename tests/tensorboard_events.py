"""Reads back what a run wrote for TensorBoard (``tensorboard`` itself is not installed): the
TFRecord framing of ``events.out.tfevents.*`` files, parsed with tensorboardX's own protobufs."""

from __future__ import annotations

import struct
from pathlib import Path

from tensorboardX.proto.event_pb2 import Event


def events(logdir: Path) -> list[Event]:
    """Every event of every events file directly in ``logdir``, in file order."""
    found = []
    for path in sorted(Path(logdir).glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at : at + 8])
            found.append(Event.FromString(data[at + 12 : at + 12 + length]))  # 8 length + 4 its CRC
            at += 12 + length + 4  # + 4: the record's CRC
    return found


def scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value), ...] of the scalars in ``logdir``."""
    out: dict[str, list[tuple[int, float]]] = {}
    for event in events(logdir):
        for value in event.summary.value:
            if value.HasField("simple_value"):
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def image_tags(logdir: Path) -> list[str]:
    return [v.tag for e in events(logdir) for v in e.summary.value if v.HasField("image")]
