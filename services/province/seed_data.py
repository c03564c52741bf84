"""The demo catalog of a province (Quảng Nam's agency identifiers, H47), loaded by `flask seed`.

Procedure codes are the national ones (mã TTHC on the national portal) where we know them:
1.001193 birth, 1.000656 death, 1.000894 marriage, 1.004873 marital status, 2.000908 certified
copies, 2.000488 judicial record. The others follow the national format and await checking
against the national database before production.
"""

from __future__ import annotations

from typing import Any

PROVINCE = "000.00.00.H47"

AGENCIES: list[dict[str, Any]] = [
    {"code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Nam", "level": "province", "parent": None},
    {"code": "000.00.19.H47", "name": "Sở Tư pháp tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.00.15.H47", "name": "Sở Xây dựng tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.00.13.H47", "name": "Sở Tài chính tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.00.17.H47", "name": "Sở Nội vụ tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.00.21.H47", "name": "Bảo hiểm xã hội tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.00.23.H47", "name": "Công an tỉnh Quảng Nam", "level": "department", "parent": PROVINCE},
    {"code": "000.20.01.H47", "name": "Ủy ban nhân dân phường Tam Kỳ", "level": "commune", "parent": PROVINCE},
    {"code": "000.20.02.H47", "name": "Ủy ban nhân dân phường Hội An", "level": "commune", "parent": PROVINCE},
    {"code": "000.20.03.H47", "name": "Ủy ban nhân dân phường Điện Bàn", "level": "commune", "parent": PROVINCE},
    {"code": "000.20.04.H47", "name": "Ủy ban nhân dân xã Núi Thành", "level": "commune", "parent": PROVINCE},
    {"code": "000.20.05.H47", "name": "Ủy ban nhân dân xã Thăng Bình", "level": "commune", "parent": PROVINCE},
    {"code": "000.20.06.H47", "name": "Ủy ban nhân dân xã Duy Xuyên", "level": "commune", "parent": PROVINCE},
    {"code": "000.23.01.H47", "name": "Công an phường Tam Kỳ", "level": "commune", "parent": "000.00.23.H47"},
]

# Fragments reused by the form schemas (JSON Schema 2020-12).
CCCD = {"type": "string", "pattern": "^[0-9]{12}$", "description": "Số định danh cá nhân (12 chữ số)"}
NAME = {"type": "string", "minLength": 2, "maxLength": 100}
DATE = {"type": "string", "format": "date"}
GENDER = {"type": "string", "enum": ["male", "female"]}
TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
PHONE = {"type": "string", "pattern": "^0[0-9]{9}$"}
RELATIONSHIP = {"type": "string", "enum": ["cha", "me", "vo", "chong", "con", "anh_chi_em", "khac"]}
BANK_ACCOUNT = {
    "type": "object",
    "required": ["bank_name", "account_number", "account_holder"],
    "properties": {"bank_name": TEXT, "account_number": {"type": "string", "pattern": "^[0-9]{6,20}$"},
                   "account_holder": NAME},
    "additionalProperties": False,
}


def form(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


CHILD = {
    "type": "object",
    "required": ["full_name", "date_of_birth", "gender", "place_of_birth"],
    "properties": {"full_name": NAME, "date_of_birth": DATE, "gender": GENDER, "place_of_birth": TEXT,
                   "ethnicity": {"type": "string", "default": "Kinh"},
                   "nationality": {"type": "string", "default": "Việt Nam"}},
    "additionalProperties": False,
}
DECEASED = {
    "type": "object",
    "required": ["full_name", "cccd", "date_of_death", "place_of_death"],
    "properties": {"full_name": NAME, "cccd": CCCD, "date_of_death": DATE, "place_of_death": TEXT,
                   "cause": TEXT},
    "additionalProperties": False,
}

BIRTH_FORM = form(["child", "mother_cccd", "relationship"], child=CHILD, mother_cccd=CCCD, father_cccd=CCCD,
                  relationship=RELATIONSHIP)
RESIDENCE_FORM = form(["person_cccd", "address"], person_cccd=CCCD, address=TEXT, owner_cccd=CCCD,
                      relationship=RELATIONSHIP)
DEATH_FORM = form(["deceased", "relationship"], deceased=DECEASED, relationship=RELATIONSHIP)


def doc(type_: str, name: str, mandatory: bool = True) -> dict[str, Any]:
    return {"type": type_, "name": name, "mandatory": mandatory}


def procedure(code: str, name: str, field: str, agency: str, days: int, fee: int, online: str, eid: int,
              description: str, documents: list[dict[str, Any]], form_schema: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "name": name, "field": field, "agency": agency, "processing_days": days,
            "fee_vnd": fee, "online_level": online, "min_eid_level": eid, "description": description,
            "required_documents": documents, "form_schema": form_schema}


PROCEDURES: list[dict[str, Any]] = [
    # Group 1: birth → permanent residence → health-insurance card for a child under 6.
    procedure("1.001193", "Đăng ký khai sinh", "Hộ tịch", "000.20.01.H47", 3, 0, "full", 2,
              "Đăng ký khai sinh cho trẻ em sinh ra trên địa bàn; miễn lệ phí khi đăng ký đúng hạn.",
              [doc("to_khai_khai_sinh", "Tờ khai đăng ký khai sinh"),
               doc("giay_chung_sinh", "Giấy chứng sinh"),
               doc("giay_chung_nhan_ket_hon", "Giấy chứng nhận kết hôn của cha mẹ", False)],
              BIRTH_FORM),
    procedure("1.004194", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", "000.23.01.H47", 2, 10_000, "full", 2,
              "Đăng ký thường trú tại chỗ ở hợp pháp; lệ phí nộp trực tuyến 10.000 đồng.",
              [doc("to_khai_cu_tru", "Tờ khai thay đổi thông tin cư trú (CT01)"),
               doc("giay_to_cho_o", "Giấy tờ chứng minh chỗ ở hợp pháp")],
              RESIDENCE_FORM),
    procedure("1.002800", "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", "Bảo hiểm y tế", "000.00.21.H47", 2, 0,
              "full", 1, "Cấp thẻ BHYT miễn phí cho trẻ em dưới 6 tuổi.",
              [doc("to_khai_bhyt", "Tờ khai tham gia BHYT (TK1-TS)")],
              form(["child_cccd", "child_name", "date_of_birth", "address"], child_cccd=CCCD, child_name=NAME,
                   date_of_birth=DATE, address=TEXT)),
    # Group 2: death → removal of permanent residence → funeral allowance.
    procedure("1.000656", "Đăng ký khai tử", "Hộ tịch", "000.20.01.H47", 0, 0, "full", 2,
              "Đăng ký khai tử trong ngày; miễn lệ phí.",
              [doc("to_khai_khai_tu", "Tờ khai đăng ký khai tử"),
               doc("giay_bao_tu", "Giấy báo tử hoặc giấy tờ thay giấy báo tử")],
              DEATH_FORM),
    procedure("1.004206", "Xóa đăng ký thường trú", "Đăng ký, quản lý cư trú", "000.23.01.H47", 0, 0, "full", 2,
              "Xóa đăng ký thường trú đối với người đã chết.",
              [doc("to_khai_cu_tru", "Tờ khai thay đổi thông tin cư trú (CT01)")],
              form(["person_cccd", "reason"], person_cccd=CCCD, reason=TEXT)),
    procedure("1.001776", "Giải quyết trợ cấp mai táng", "Bảo trợ xã hội", "000.00.17.H47", 5, 0, "full", 2,
              "Chi trả trợ cấp mai táng cho người lo mai táng.",
              [doc("to_khai_mai_tang", "Tờ khai đề nghị hỗ trợ chi phí mai táng"),
               doc("trich_luc_khai_tu", "Trích lục khai tử")],
              form(["deceased_cccd", "beneficiary"], deceased_cccd=CCCD, beneficiary=BANK_ACCOUNT)),
    # Other procedures citizens file most.
    procedure("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Lý lịch tư pháp", "000.00.19.H47", 10,
              200_000, "full", 2, "Cấp Phiếu lý lịch tư pháp số 1 hoặc số 2; nhận kết quả qua bưu chính hoặc VNeID.",
              [doc("to_khai_lltp", "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp")],
              form(["full_name", "cccd", "purpose", "copies"], full_name=NAME, cccd=CCCD, purpose=TEXT,
                   copies={"type": "integer", "minimum": 1, "maximum": 10}, phone=PHONE)),
    procedure("2.000575", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
              "000.20.02.H47", 3, 100_000, "full", 1, "Cấp Giấy chứng nhận đăng ký hộ kinh doanh.",
              [doc("giay_de_nghi_hkd", "Giấy đề nghị đăng ký hộ kinh doanh"),
               doc("bien_ban_hop", "Biên bản họp thành viên hộ gia đình", False)],
              form(["business_name", "address", "line_of_business", "capital_vnd"], business_name=TEXT,
                   address=TEXT, line_of_business=TEXT, capital_vnd={"type": "integer", "minimum": 0},
                   phone=PHONE)),
    procedure("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng", "000.20.04.H47", 15,
              75_000, "partial", 1, "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ.",
              [doc("don_xin_gpxd", "Đơn đề nghị cấp giấy phép xây dựng"),
               doc("giay_chung_nhan_qsdd", "Giấy chứng nhận quyền sử dụng đất"),
               doc("ban_ve_thiet_ke", "Bản vẽ thiết kế xây dựng")],
              form(["address", "land_parcel", "floor_area_m2", "floors"], address=TEXT, land_parcel=TEXT,
                   floor_area_m2={"type": "number", "exclusiveMinimum": 0},
                   floors={"type": "integer", "minimum": 1, "maximum": 50})),
    procedure("2.000635", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "000.20.03.H47", 1, 8_000, "full", 1,
              "Cấp bản sao trích lục hộ tịch đã đăng ký; 8.000 đồng mỗi bản.",
              [doc("to_khai_trich_luc", "Tờ khai cấp bản sao trích lục hộ tịch")],
              form(["record_type", "person_cccd", "copies"], record_type={
                  "type": "string", "enum": ["khai_sinh", "ket_hon", "khai_tu"]}, person_cccd=CCCD,
                  copies={"type": "integer", "minimum": 1, "maximum": 10})),
    procedure("1.000894", "Đăng ký kết hôn", "Hộ tịch", "000.20.05.H47", 3, 0, "partial", 2,
              "Đăng ký kết hôn; hai bên có mặt khi nhận Giấy chứng nhận kết hôn.",
              [doc("to_khai_ket_hon", "Tờ khai đăng ký kết hôn")],
              form(["bride_cccd", "groom_cccd"], bride_cccd=CCCD, groom_cccd=CCCD)),
    procedure("2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực", "000.20.06.H47", 1, 2_000, "partial", 1,
              "Chứng thực bản sao từ bản chính giấy tờ, văn bản; 2.000 đồng mỗi trang.",
              [doc("ban_chinh", "Bản chính giấy tờ cần chứng thực")],
              form(["document_name", "pages"], document_name=TEXT,
                   pages={"type": "integer", "minimum": 1, "maximum": 200})),
    procedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", "000.20.02.H47", 3, 0, "full", 1,
              "Xác nhận tình trạng hôn nhân để kết hôn hoặc sử dụng vào mục đích khác.",
              [doc("to_khai_tthn", "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân")],
              form(["purpose"], purpose=TEXT)),
    procedure("1.004198", "Đăng ký tạm trú", "Đăng ký, quản lý cư trú", "000.23.01.H47", 3, 7_000, "full", 1,
              "Đăng ký tạm trú tại chỗ ở hợp pháp ngoài nơi thường trú.",
              [doc("to_khai_cu_tru", "Tờ khai thay đổi thông tin cư trú (CT01)"),
               doc("giay_to_cho_o", "Giấy tờ chứng minh chỗ ở hợp pháp")],
              form(["address", "until"], address=TEXT, until=DATE)),
    procedure("1.004229", "Xác nhận thông tin về cư trú", "Đăng ký, quản lý cư trú", "000.23.01.H47", 1, 0, "full",
              1, "Xác nhận thông tin về cư trú theo yêu cầu của công dân.",
              [doc("to_khai_cu_tru", "Tờ khai thay đổi thông tin cư trú (CT01)")],
              form(["purpose"], purpose=TEXT)),
    procedure("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân", "Thành lập và hoạt động doanh nghiệp",
              "000.00.13.H47", 3, 50_000, "full", 1, "Cấp Giấy chứng nhận đăng ký doanh nghiệp tư nhân.",
              [doc("giay_de_nghi_dkdn", "Giấy đề nghị đăng ký doanh nghiệp")],
              form(["company_name", "address", "capital_vnd"], company_name=TEXT, address=TEXT,
                   capital_vnd={"type": "integer", "minimum": 0})),
    procedure("1.001743", "Trợ cấp xã hội hằng tháng đối với người cao tuổi", "Bảo trợ xã hội", "000.20.06.H47", 7,
              0, "full", 2, "Hưởng trợ cấp xã hội hằng tháng cho người từ đủ 75 tuổi (70 tuổi ở xã nghèo).",
              [doc("to_khai_tcxh", "Tờ khai đề nghị trợ giúp xã hội (Mẫu 1a)")],
              form(["beneficiary_cccd", "bank"], beneficiary_cccd=CCCD, bank=BANK_ACCOUNT)),
    procedure("1.002286", "Cấp giấy phép xây dựng sửa chữa, cải tạo công trình", "Hoạt động xây dựng",
              "000.00.15.H47", 20, 150_000, "partial", 1,
              "Cấp giấy phép sửa chữa, cải tạo công trình cấp II trở xuống.",
              [doc("don_xin_gpxd", "Đơn đề nghị cấp giấy phép sửa chữa, cải tạo"),
               doc("ban_ve_hien_trang", "Bản vẽ hiện trạng công trình")],
              form(["address", "description"], address=TEXT, description=TEXT)),
]

GROUPS: list[dict[str, Any]] = [
    {
        "code": "LT-KS-TT-BHYT",
        "name": "Liên thông đăng ký khai sinh – đăng ký thường trú – cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        "procedure_codes": ["1.001193", "1.004194", "1.002800"],
        "form_schema": form(["child", "mother_cccd", "address", "relationship"], child=CHILD, mother_cccd=CCCD,
                            father_cccd=CCCD, address=TEXT, relationship=RELATIONSHIP),
    },
    {
        "code": "LT-KT-XTT-MT",
        "name": "Liên thông đăng ký khai tử – xóa đăng ký thường trú – hưởng trợ cấp mai táng",
        "procedure_codes": ["1.000656", "1.004206", "1.001776"],
        "form_schema": form(["deceased", "relationship"], deceased=DECEASED, relationship=RELATIONSHIP,
                            beneficiary=BANK_ACCOUNT),
    },
]
