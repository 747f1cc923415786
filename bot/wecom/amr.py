"""How long an AMR recording (WeCom's voice messages) plays, from its frame headers.

The storage format (RFC 4867, section 5) is a magic line and then frames of 20 ms, each
starting with a byte whose frame type fixes the frame's size. No audio library we could use
reads AMR, and counting frames needs no decoding.
"""

from __future__ import annotations

FRAME_SECONDS = 0.02
# bytes per frame, header included, by frame type (0-15): narrow band, wide band
_NB = (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1)
_WB = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 1, 1, 1, 1, 1, 1)
MAGIC = {b"#!AMR\n": _NB, b"#!AMR-WB\n": _WB}


def seconds(data: bytes) -> int | None:
    """Whole seconds (rounded, at least 1 for any sound); None when `data` is not AMR."""
    magic = next((m for m in MAGIC if data.startswith(m)), None)
    if magic is None:
        return None
    sizes, at, frames = MAGIC[magic], len(magic), 0
    while at < len(data):
        at += sizes[(data[at] >> 3) & 0x0F]
        frames += 1
    if at > len(data):  # a cut-off last frame: it still played up to where it ends
        frames -= 1
    return max(1, round(frames * FRAME_SECONDS)) if frames else 0
