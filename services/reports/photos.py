"""A report's photos: judged by their bytes, re-encoded without EXIF, stored by content hash.

Only the re-encoded copy is kept: a phone's JPEG carries the GPS position, the device and the time in
its EXIF block (and PNGs may carry text chunks); the copy is decoded pixels, rotated as the EXIF said,
then saved with no metadata at all, so nothing of the reporter leaves with the public photo.
"""

from __future__ import annotations

import io
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import FileTooLarge, UnsupportedFileType

MAX_PHOTOS = 5
MAX_SIDE = 2048  # larger photos are scaled down: a map pin's photo needs no more
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
Image.MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb is refused, not decoded


def public_copy(stream: IO[bytes], *, max_bytes: int) -> tuple[bytes, str]:
    """The bytes to store and their type; 415 when the bytes are not a JPEG or PNG image."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in FORMATS:
            raise UnsupportedFileType("only JPEG and PNG photos are accepted")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            shown = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedFileType("only JPEG and PNG photos are accepted") from exc
    shown.thumbnail((MAX_SIDE, MAX_SIDE))
    # A new image holds the pixels only (`info`, where EXIF and text chunks live, starts empty).
    mode = "RGB" if kind == "JPEG" or shown.mode in ("1", "L", "RGB", "CMYK", "YCbCr") else "RGBA"
    clean = Image.new(mode, shown.size)
    clean.paste(shown.convert(mode))
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    return out.getvalue(), FORMATS[kind]
