"""The desk's documents as PDF (forms 01-04): DejaVu Sans (shipped in fonts/, Vietnamese diacritics as
text, not images) set on a one-page sheet (services.dossiers.sheet) and a QR code of the verification
code (segno)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import segno

from services.calendar import TZ
from services.dossiers.sheet import Face, Sheet, face
from vocab import DeskForm

QR_SCALE, QR_BORDER = 3, 2  # pixels a module, modules of quiet zone
_PIXELS = (b"\xff" * QR_SCALE, b"\x00" * QR_SCALE)  # a light module's pixels across, a dark one's
FONTS = Path(__file__).resolve().parent / "fonts"
TITLES = {
    DeskForm.receipt: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    DeskForm.supplement: "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    DeskForm.refusal: "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ",
    DeskForm.apology: "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
}


@dataclass(frozen=True)
class Facts:
    """What a document says, read from the record by services.dossiers.documents."""

    form: DeskForm
    number: str
    issued_at: datetime
    agency_name: str
    dossier_code: str
    procedure_name: str
    applicant_name: str
    applicant_cccd: str
    verify_code: str
    verify_url: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, value) rows of the body
    items: list[str] = field(default_factory=list)  # papers received, or missing


def _local(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")


def _qr(url: str) -> tuple[int, bytes]:
    """The QR code of `url` as grey pixels: 3 px a module inside a 2-module quiet zone."""
    matrix = segno.make(url, error="m", mask=0).matrix
    quiet = [bytes(len(matrix) + 2 * QR_BORDER)] * QR_BORDER
    rows = [*quiet, *(bytes(QR_BORDER) + bytes(row) + bytes(QR_BORDER) for row in matrix), *quiet]
    pixels = b"".join(b"".join(map(_PIXELS.__getitem__, row)) * QR_SCALE for row in rows)
    return len(rows) * QR_SCALE, pixels


def faces() -> tuple[Face, Face]:
    """The regular and bold faces, read on first use (about 80 ms) and kept for the process; a server
    reads them when a worker starts (deploy/gunicorn.conf.py), not in its first form."""
    return face(FONTS / "DejaVuSans-VN.ttf"), face(FONTS / "DejaVuSans-Bold-VN.ttf")


def render(facts: Facts) -> bytes:
    regular, bold = faces()
    pdf = Sheet((regular, bold), left=18, top=15, right=18)
    width = pdf.width
    pdf.font(bold, 9)
    pdf.cell(width / 2, 5, facts.agency_name.upper()[:60])
    pdf.cell(width / 2, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="R", newline=True)
    pdf.font(regular, 9)
    pdf.cell(width / 2, 5, f"Số: {facts.number}")
    pdf.cell(width / 2, 5, "Độc lập - Tự do - Hạnh phúc", align="R", newline=True)
    pdf.cell(width, 5, f"Mẫu số {facts.form.value}", align="R", newline=True)
    pdf.ln(4)
    pdf.font(bold, 13)
    pdf.lines(width, 7, TITLES[facts.form], align="C")
    pdf.font(regular, 10)
    pdf.cell(width, 6, f"Mã hồ sơ: {facts.dossier_code}", align="C", newline=True)
    pdf.ln(3)
    rows = [("Người nộp hồ sơ", facts.applicant_name), ("Số định danh cá nhân", facts.applicant_cccd),
            ("Thủ tục", facts.procedure_name), *facts.lines]
    for label, value in rows:
        pdf.font(bold, 10)
        pdf.cell(55, 6, f"{label}:")
        pdf.font(regular, 10)
        pdf.lines(width - 55, 6, value or "-")
    if facts.items:
        pdf.ln(2)
        pdf.font(bold, 10)
        heading = "Giấy tờ đã nhận:" if facts.form == DeskForm.receipt else "Giấy tờ cần bổ sung:"
        pdf.cell(width, 6, heading, newline=True)
        pdf.font(regular, 10)
        for number, item in enumerate(facts.items, 1):
            pdf.lines(width, 6, f"{number}. {item}")
    pdf.ln(4)
    pdf.font(regular, 9)
    pdf.cell(width, 5, f"Lập lúc {_local(facts.issued_at)}", align="R", newline=True)
    pdf.room(38)  # the QR code and its caption stay together
    top = pdf.y + 4
    pdf.grey_image(pdf.left, top, 30, *_qr(facts.verify_url))
    pdf.x, pdf.y = pdf.left + 34, top + 4
    pdf.lines(width - 34, 5, f"Mã xác thực: {facts.verify_code}\nKiểm tra tại: {facts.verify_url}")
    return pdf.output(title=f"Mẫu {facts.form.value} - {facts.dossier_code}", created=facts.issued_at)
