"""The desk's documents as PDF (forms 01-04): fpdf2 with DejaVu Sans (shipped in fonts/, Vietnamese
diacritics as text, not images) and a QR code of the verification code (segno)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.fonts import TTFFont

from services.calendar import TZ
from vocab import DeskForm

logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetter logs every glyph at INFO
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


def render(facts: Facts) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(facts.issued_at)
    pdf.set_title(f"Mẫu {facts.form.value} - {facts.dossier_code}")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans-VN.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold-VN.ttf"))
    for font in pdf.fonts.values():
        if not isinstance(font, TTFFont):
            continue
        # The subset is saved without recomputing every glyph's bounding box (they are right already):
        # fontTools would otherwise decode and re-encode each outline, most of a slip's time.
        font.ttfont.recalcBBoxes = False
    pdf.set_margins(18, 15, 18)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(width / 2, 5, facts.agency_name.upper()[:60])
    pdf.cell(width / 2, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(width / 2, 5, f"Số: {facts.number}")
    pdf.cell(width / 2, 5, "Độc lập - Tự do - Hạnh phúc", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 5, f"Mẫu số {facts.form.value}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(width, 7, TITLES[facts.form], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(width, 6, f"Mã hồ sơ: {facts.dossier_code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    rows = [("Người nộp hồ sơ", facts.applicant_name), ("Số định danh cá nhân", facts.applicant_cccd),
            ("Thủ tục", facts.procedure_name), *facts.lines]
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(55, 6, f"{label}:")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width - 55, 6, value or "-", new_x="LMARGIN", new_y="NEXT")
    if facts.items:
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 10)
        heading = "Giấy tờ đã nhận:" if facts.form == DeskForm.receipt else "Giấy tờ cần bổ sung:"
        pdf.cell(width, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        for number, item in enumerate(facts.items, 1):
            pdf.multi_cell(width, 6, f"{number}. {item}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(width, 5, f"Lập lúc {_local(facts.issued_at)}", align="R", new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(facts.verify_url, error="m", mask=0).save(qr, kind="png", scale=3, border=2)
    top = pdf.get_y() + 4
    pdf.image(qr, x=pdf.l_margin, y=top, w=30, h=30)
    pdf.set_xy(pdf.l_margin + 34, top + 4)
    pdf.multi_cell(width - 34, 5, f"Mã xác thực: {facts.verify_code}\nKiểm tra tại: {facts.verify_url}",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
