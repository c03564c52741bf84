"""The caller's language (Accept-Language: vi by default, en on request) and the texts we localize."""

from __future__ import annotations

from flask import g, request

from vocab import Language

LANGUAGES = tuple(Language)

# code → (title vi, title en, default detail vi, default detail en)
PROBLEMS: dict[str, tuple[str, str, str, str]] = {
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request",
                    "Máy chủ không đọc được yêu cầu.", "The server could not read the request."),
    "unauthorized": ("Chưa đăng nhập hoặc phiên đã hết hạn", "Unauthorized",
                     "Cần đăng nhập bằng tài khoản định danh điện tử.", "Sign in with your electronic identity."),
    "forbidden": ("Không có quyền", "Forbidden",
                  "Bạn không có quyền thực hiện thao tác này.", "You may not do this."),
    "not_found": ("Không tìm thấy", "Not found",
                  "Không tìm thấy tài nguyên yêu cầu.", "The requested resource does not exist."),
    "method_not_allowed": ("Phương thức không được hỗ trợ", "Method not allowed",
                           "Đường dẫn này không hỗ trợ phương thức đã dùng.",
                           "This path does not accept that method."),
    "not_acceptable": ("Không đáp ứng được định dạng yêu cầu", "Not acceptable",
                       "Máy chủ chỉ trả về JSON.", "The server answers JSON only."),
    "validation_failed": ("Dữ liệu không hợp lệ", "Validation failed",
                          "Một số trường dữ liệu không hợp lệ, xem chi tiết trong errors.",
                          "Some fields are invalid; see errors."),
    "invalid_transition": ("Thao tác không hợp lệ với trạng thái hiện tại", "Invalid transition",
                           "Hồ sơ không thể chuyển sang trạng thái này.", "The dossier cannot make this move now."),
    "precondition_failed": ("Dữ liệu đã thay đổi", "Precondition failed",
                            "Hồ sơ đã được cập nhật bởi người khác; hãy tải lại.",
                            "The resource changed since you read it; reload it."),
    "precondition_required": ("Thiếu điều kiện If-Match", "Precondition required",
                              "Cần gửi tiêu đề If-Match với ETag của lần đọc gần nhất.",
                              "Send If-Match with the ETag you last read."),
    "idempotency_key_reused": ("Khóa Idempotency-Key đã dùng cho yêu cầu khác", "Idempotency key reused",
                               "Khóa này đã được dùng với nội dung khác.", "This key was used with another body."),
    "eid_level_insufficient": ("Mức định danh điện tử chưa đủ", "Electronic identity level insufficient",
                               "Thủ tục này yêu cầu tài khoản định danh điện tử mức 2.",
                               "This procedure needs a level-2 electronic identity."),
    "missing_documents": ("Thiếu giấy tờ bắt buộc", "Missing documents",
                          "Hồ sơ còn thiếu giấy tờ bắt buộc.", "Mandatory documents are missing."),
    "payment_required": ("Chưa thanh toán phí, lệ phí", "Payment required",
                         "Phí, lệ phí của hồ sơ chưa được thanh toán.", "The dossier's fee is unpaid."),
    "file_too_large": ("Tệp quá lớn", "File too large",
                       "Tệp vượt quá dung lượng cho phép.", "The file exceeds the size limit."),
    "unsupported_file_type": ("Định dạng tệp không được hỗ trợ", "Unsupported file type",
                              "Chỉ chấp nhận tệp PDF, JPEG hoặc PNG.", "Only PDF, JPEG or PNG files are accepted."),
    "rate_limited": ("Quá nhiều yêu cầu", "Too many requests",
                     "Vui lòng thử lại sau.", "Please try again later."),
    "conflict": ("Xung đột dữ liệu", "Conflict",
                 "Yêu cầu xung đột với trạng thái hiện tại.", "The request conflicts with the current state."),
    "invalid_grant": ("Mã cấp quyền không hợp lệ", "Invalid grant",
                      "Mã cấp quyền đã dùng, hết hạn hoặc không khớp.", "The code is used, expired or does not match."),
    "invalid_request": ("Yêu cầu đăng nhập không hợp lệ", "Invalid request",
                        "Yêu cầu gửi tới nhà cung cấp định danh thiếu hoặc sai tham số.",
                        "The request to the identity provider is missing or has a wrong parameter."),
    "internal_error": ("Lỗi hệ thống", "Internal server error",
                       "Đã có lỗi xảy ra; vui lòng thử lại sau.", "Something went wrong; please try again later."),
    "service_unavailable": ("Dịch vụ tạm thời không sẵn sàng", "Service unavailable",
                            "Vui lòng thử lại sau.", "Please try again later."),
}


def negotiate(header: str | None) -> str:
    """The first supported language in an Accept-Language header, by quality; vi when none."""
    best, best_q = "vi", -1.0
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q or (q == best_q and position == 0):
            best, best_q = lang, q
    return best


def current_language() -> str:
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = negotiate(request.headers.get("Accept-Language"))
    return lang


def problem_text(code: str, lang: str) -> tuple[str, str]:
    """(title, default detail) of a problem code in a language."""
    title_vi, title_en, detail_vi, detail_en = PROBLEMS.get(code, PROBLEMS["internal_error"])
    return (title_en, detail_en) if lang == "en" else (title_vi, detail_vi)
