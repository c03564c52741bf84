"""The one-page PDF writer under the desk's forms (services.dossiers.sheet): a document any reader opens
strictly, text that comes back out as it went in (Vietnamese, decomposed input, text too wide for its
line), and bytes that depend on nothing but the facts."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pypdf

from services.dossiers.pdf import FONTS, Facts, render
from services.dossiers.sheet import Sheet, face
from vocab import DeskForm

SLIP = Facts(
    form=DeskForm.supplement, number="000007/2026/02", issued_at=datetime(2026, 11, 26, 3, 30, tzinfo=UTC),
    agency_name="Ủy ban nhân dân xã Điện Bàn Đông", dossier_code="000.00.12.H47-261126-0007",
    procedure_name="Đăng ký thường trú", applicant_name="Trần Thị Ánh Tuyết", applicant_cccd="049190001234",
    verify_code="Zq1x", verify_url="https://dichvucong.quangnam.gov.vn/api/v1/verify/Zq1x",
    lines=[("Nội dung cần bổ sung", "Bản sao sổ hộ khẩu có chứng thực " * 6)],
    items=["Giấy tờ chứng minh chỗ ở hợp pháp"])


def reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf), strict=True)  # strict: a wrong offset or object is an error


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_form_reads_back_strictly_with_its_text_title_and_date():
    pdf = render(SLIP)
    document = reader(pdf)
    [page] = document.pages
    assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]  # A4 in points
    assert document.metadata is not None and document.metadata.title == "Mẫu 02 - 000.00.12.H47-261126-0007"
    assert document.metadata["/CreationDate"] == "D:20261126033000Z"
    text = flat(page.extract_text())
    for expected in ("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Người nộp hồ sơ: Trần Thị Ánh Tuyết",
                     "ỦY BAN NHÂN DÂN XÃ ĐIỆN BÀN ĐÔNG", "1. Giấy tờ chứng minh chỗ ở hợp pháp",
                     flat("Bản sao sổ hộ khẩu có chứng thực " * 6)):
        assert expected in text, (expected, text)


def test_the_cross_reference_table_points_at_each_object():
    """Readers recover from a wrong table quietly (pypdf, even strict, and most viewers), so it is read
    here by hand: every entry's offset is where its object begins, and startxref is where the table is."""
    pdf = render(SLIP)
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    table = pdf[start:].split(b"trailer", 1)[0].split(b"\n")
    assert table[0] == b"xref" and table[1].startswith(b"0 ")
    entries = [line for line in table[2:] if line]
    assert entries[0] == b"0000000000 65535 f " and len(entries) == int(table[1].split()[1])
    for number, entry in enumerate(entries[1:], 1):
        offset = int(entry.split()[0])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number), (number, pdf[offset:offset + 20])


def test_the_same_facts_make_the_same_bytes_and_other_facts_other_bytes():
    assert render(SLIP) == render(SLIP)
    assert render(replace(SLIP, applicant_name="Trần Thị Ánh")) != render(SLIP)


def test_decomposed_input_is_set_as_its_composed_letters():
    """A phone keyboard may send 'ế' as e + two combining marks: the glyphs are the composed letter's."""
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Huế")
    assert decomposed != "Nguyễn Thị Huế"
    text = flat(reader(render(replace(SLIP, applicant_name=decomposed))).pages[0].extract_text())
    assert "Người nộp hồ sơ: Nguyễn Thị Huế" in text


def test_lines_wrap_at_spaces_and_a_word_too_long_for_a_line_is_cut():
    regular = face(FONTS / "DejaVuSans-VN.ttf")
    sheet = Sheet([regular], left=18, top=15, right=18)
    sheet.font(regular, 10)
    word = "x" * 400
    lines = sheet.wrap(f"một hai ba\n{word} bốn", 60)
    assert lines[0] == "một hai ba" and "".join(lines[1:-1]) + lines[-1].removesuffix(" bốn") == word
    assert all(sheet.text_width(line) <= 60 for line in lines) and len(lines) > 3
    assert sheet.wrap("", 60) == [""]


def test_a_reason_too_long_for_one_page_goes_on_to_the_next():
    """Reasons and notes take up to 4,000 characters: the rest of the form follows them on page two."""
    reason = " ".join(f"Lý do thứ {n} của việc chậm trễ." for n in range(120))
    assert 3_500 < len(reason) <= 4_000
    pdf = render(replace(SLIP, lines=[("Nội dung cần bổ sung", reason)]))
    pages = reader(pdf).pages
    assert len(pages) == 2
    text = flat(" ".join(page.extract_text() for page in pages))
    assert flat(reason) in text and "Mã xác thực: Zq1x" in flat(pages[1].extract_text())
    assert len(reader(render(SLIP)).pages) == 1


def test_a_character_the_face_lacks_is_drawn_as_its_missing_glyph_not_an_error():
    pdf = render(replace(SLIP, applicant_name="Lê Văn 龍"))
    assert "Lê Văn" in reader(pdf).pages[0].extract_text()
