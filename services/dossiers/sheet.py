"""An A4 PDF with Unicode text in embedded TrueType faces and grey images: what the desk's forms
need, written directly.

A form is issued with the action that calls for it, in its transaction, so its cost is the action's.
A general PDF library parses both TTF files and subsets them again for every document (about 25 ms
of CPU a slip with fpdf2). Here each face is read once per process: its outlines, widths and
Unicode map become PDF objects, compressed once and embedded whole in every document (the shipped
faces are already a Latin + Vietnamese subset: about 20 KB each without hinting), so a document
costs its own text, image and cross-reference table (about 1 ms).

Coordinates are millimetres from the top-left corner of the current page, as a form's layout is
written; text is set on a cursor that cells and wrapped lines move (left to right, then down, onto a
new page when a line would not fit: a 4,000-character reason takes two).
"""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetter logs every glyph at INFO
PT_PER_MM = 72 / 25.4
A4_MM = (210.0, 297.0)
CELL_PAD_MM = 1.0  # text stands this far inside a cell's left or right edge
BOTTOM_MM = 20.0  # a line that would reach lower than this above the page's edge starts a new page
UNREAD_TABLES = ("GDEF", "GPOS", "GSUB", "MATH", "FFTM", "hdmx", "gasp")  # layout, device: no PDF viewer reads them


@dataclass(frozen=True)
class Face:
    """One TrueType face, ready to embed: glyph ids and advance widths (1/1000 em) by character, and its
    PDF objects (the font file, the descriptor's numbers, the widths array and the ToUnicode map)."""

    name: str
    glyphs: dict[str, tuple[int, int]]  # character -> (glyph id, advance)
    missing_advance: int
    file: bytes  # the TTF, zlib-compressed
    descriptor: str
    widths: str
    to_unicode: bytes  # zlib-compressed CMap

    def advance(self, text: str) -> int:
        glyphs, missing = self.glyphs, self.missing_advance
        return sum(glyphs[c][1] if c in glyphs else missing for c in text)

    def encode(self, text: str) -> str:
        glyphs = self.glyphs
        return "".join(f"{glyphs[c][0] if c in glyphs else 0:04X}" for c in text)


@cache
def face(path: Path) -> Face:
    """Read a TTF once per process: drop hinting and layout tables, keep every glyph."""
    font = TTFont(str(path), recalcTimestamp=False)
    options = subset.Options(hinting=False, notdef_outline=True, glyph_names=True, recalc_bounds=False,
                             name_IDs=["*"], name_languages=["*"], layout_features=[])
    options.drop_tables += list(UNREAD_TABLES)
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=font.getGlyphOrder())
    subsetter.subset(font)
    raw = io.BytesIO()
    font.save(raw)
    order = font.getGlyphOrder()
    gid = {name: n for n, name in enumerate(order)}
    scale = 1000 / font["head"].unitsPerEm
    advances = [round(font["hmtx"][name][0] * scale) for name in order]
    glyphs: dict[str, tuple[int, int]] = {}
    unicode_of: dict[int, int] = {}
    for code, name in sorted(font.getBestCmap().items()):
        glyphs[chr(code)] = (gid[name], advances[gid[name]])
        unicode_of.setdefault(gid[name], code)
    head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
    bbox = " ".join(str(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
    cap = getattr(os2, "sCapHeight", 0) or hhea.ascent
    bold = bool(head.macStyle & 1)
    name = font["name"].getDebugName(6) or path.stem
    descriptor = (f"/Flags 32 /FontBBox [{bbox}] /ItalicAngle {font['post'].italicAngle:g} "
                  f"/Ascent {round(hhea.ascent * scale)} /Descent {round(hhea.descent * scale)} "
                  f"/CapHeight {round(cap * scale)} /StemV {120 if bold else 80}")
    return Face(name=name, glyphs=glyphs, missing_advance=advances[0], file=zlib.compress(raw.getvalue(), 9),
                descriptor=descriptor, widths=f"[0 [{' '.join(map(str, advances))}]]",
                to_unicode=zlib.compress(_cmap(unicode_of), 9))


def _cmap(unicode_of: dict[int, int]) -> bytes:
    pairs = [f"<{g:04X}> <{chr(u).encode('utf-16-be').hex().upper()}>" for g, u in sorted(unicode_of.items())]
    blocks = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
                     for chunk in (pairs[i:i + 100] for i in range(0, len(pairs), 100)))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend").encode()


def _text_string(value: str) -> str:
    """A PDF text string (the document's title) in UTF-16BE with its byte order mark."""
    return "<FEFF" + value.encode("utf-16-be").hex().upper() + ">"


class Sheet:
    """A document under construction: a cursor, the current face and size, and each A4 page's drawing."""

    def __init__(self, faces: Sequence[Face], *, left: float, top: float, right: float) -> None:
        self.faces = list(faces)
        self.left, self.right, self.top = left, right, top
        self.x, self.y = left, top
        self.width = A4_MM[0] - left - right  # the writable width
        self._face, self._size = self.faces[0], 10.0
        self._pages: list[list[str]] = [[]]  # each page's drawing operators
        self._ops = self._pages[0]
        self._images: list[tuple[int, bytes]] = []  # (side in pixels, grey pixels row by row)

    def font(self, face: Face, size: float) -> None:
        self._face, self._size = face, size

    def text_width(self, text: str) -> float:
        return self._face.advance(text) * self._size / 1000 / PT_PER_MM

    def room(self, h: float) -> None:
        """Make sure `h` mm fit below the cursor: if not, go on at the top of a new page."""
        if self.y + h > A4_MM[1] - BOTTOM_MM and self.y > self.top:
            self._ops = []
            self._pages.append(self._ops)
            self.y = self.top

    def cell(self, w: float, h: float, text: str, *, align: str = "L", newline: bool = False) -> None:
        """Text on one line in a box `w` wide and `h` high at the cursor; the cursor moves right, or to the
        next line at the left margin."""
        self._put(w, h, unicodedata.normalize("NFC", text), align, newline)

    def _put(self, w: float, h: float, text: str, align: str, newline: bool) -> None:
        """cell() for text already in NFC."""
        self.room(h)
        if text:
            if align == "R":
                dx = w - CELL_PAD_MM - self.text_width(text)
            elif align == "C":
                dx = (w - self.text_width(text)) / 2
            else:
                dx = CELL_PAD_MM
            baseline = self.y + h / 2 + 0.3 * self._size / PT_PER_MM
            index = self.faces.index(self._face) + 1
            self._ops.append(f"BT /F{index} {self._size:g} Tf 1 0 0 1 {(self.x + dx) * PT_PER_MM:.2f} "
                             f"{(A4_MM[1] - baseline) * PT_PER_MM:.2f} Tm <{self._face.encode(text)}> Tj ET")
        if newline:
            self.x, self.y = self.left, self.y + h
        else:
            self.x += w

    def lines(self, w: float, h: float, text: str, *, align: str = "L") -> None:
        """Text wrapped to `w` (at spaces, within a word when it alone is too long), a line `h` high each;
        the cursor ends at the left margin below it."""
        x = self.x
        for line in self.wrap(unicodedata.normalize("NFC", text), w - 2 * CELL_PAD_MM):
            self.x = x
            self._put(w, h, line, align, True)

    def wrap(self, text: str, width: float) -> list[str]:
        """`text` in lines no wider than `width` mm in the current face and size, in one pass over its
        words (a long name or a URL costs its length, not its length squared)."""
        advance, limit = self._face.advance, width * PT_PER_MM * 1000 / self._size  # in 1/1000 em
        space, out = advance(" "), []
        for paragraph in text.split("\n"):
            line, used = "", 0
            for word in paragraph.split(" "):
                size = advance(word)
                if line and used + space + size <= limit:
                    line, used = f"{line} {word}", used + space + size
                    continue
                if line:
                    out.append(line)
                while size > limit and len(word) > 1:
                    cut = self._fit(word, limit)
                    out.append(word[:cut])
                    word = word[cut:]
                    size = advance(word)
                line, used = word, size
            out.append(line)
        return out

    def _fit(self, word: str, limit: float) -> int:
        """How many of the word's first characters fit in `limit` (at least one)."""
        total = 0
        for n, char in enumerate(word):
            total += self._face.advance(char)
            if total > limit:
                return max(n, 1)
        return len(word)

    def ln(self, h: float) -> None:
        self.x, self.y = self.left, self.y + h

    def grey_image(self, x: float, y: float, size: float, side: int, pixels: bytes) -> None:
        """A square picture of `side` × `side` grey pixels (one byte each), drawn `size` mm wide at (x, y)."""
        self._images.append((side, pixels))
        bottom = (A4_MM[1] - y - size) * PT_PER_MM
        self._ops.append(f"q {size * PT_PER_MM:.2f} 0 0 {size * PT_PER_MM:.2f} {x * PT_PER_MM:.2f} {bottom:.2f} cm "
                         f"/Im{len(self._images)} Do Q")

    def output(self, *, title: str, created: datetime) -> bytes:
        """The document: catalog, pages, faces, images, contents, info, cross-reference table."""
        objects: list[bytes] = []

        def add(body: bytes | str, stream: bytes | None = None) -> int:
            head = body.encode() if isinstance(body, str) else body
            if stream is not None:
                head = b"<< " + head + b" /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) \
                    + stream + b"\nendstream"
            objects.append(head)
            return len(objects)

        add("<< /Type /Catalog /Pages 2 0 R >>")
        add("")  # the page tree, written once its pages are numbered
        fonts = []
        for n, f in enumerate(self.faces, 1):
            file = add("", f.file)
            descriptor = add(f"<< /Type /FontDescriptor /FontName /{f.name} {f.descriptor} /FontFile2 {file} 0 R >>")
            cid = add(f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{f.name} /CIDSystemInfo << /Registry (Adobe) "
                      f"/Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} 0 R "
                      f"/DW {f.missing_advance} /W {f.widths} /CIDToGIDMap /Identity >>")
            cmap = add("", f.to_unicode)
            font = add(f"<< /Type /Font /Subtype /Type0 /BaseFont /{f.name} /Encoding /Identity-H "
                       f"/DescendantFonts [{cid} 0 R] /ToUnicode {cmap} 0 R >>")
            fonts.append(f"/F{n} {font} 0 R")
        images = []
        for n, (side, pixels) in enumerate(self._images, 1):
            image = add(f"/Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceGray "
                        "/BitsPerComponent 8", zlib.compress(pixels, 6))
            images.append(f"/Im{n} {image} 0 R")
        w, h = (round(v * PT_PER_MM, 2) for v in A4_MM)
        resources = f"<< /Font << {' '.join(fonts)} >> /XObject << {' '.join(images)} >> >>"
        pages = []
        for ops in self._pages:
            content = add("", zlib.compress("\n".join(ops).encode("ascii"), 6))
            pages.append(add(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents {content} 0 R "
                             f"/Resources {resources} >>"))
        objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in pages)}] /Count {len(pages)} >>".encode()
        info = add(f"<< /Title {_text_string(title)} /Producer (smartqn-backend) "
                   f"/CreationDate (D:{created.astimezone(UTC).strftime('%Y%m%d%H%M%S')}Z) >>")
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for n, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        digest = hashlib.md5(out, usedforsecurity=False).hexdigest().upper()
        out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info} 0 R /ID [<{digest}> <{digest}>] >>\n"
                f"startxref\n{xref}\n%%EOF\n").encode()
        return bytes(out)
