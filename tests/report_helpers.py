"""Field reports for tests: photos with GPS in their EXIF, reports filed and moved through the API."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.helpers import bearer

HAI_CHAU = (16.0678, 108.2208)  # phường Hải Châu (urban), served by 000.20.05.H15
HOA_VANG = (16.0100, 108.0800)  # xã Hòa Vang (rural), served by 000.20.14.H15
HANOI = (21.0285, 105.8542)


def photo(kind: str = "JPEG", *, gps: bool = True, size: tuple[int, int] = (64, 48)) -> bytes:
    """A real image whose EXIF names a GPS position and a camera (when `gps`)."""
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: (16.0, 4.0, 4.08), 3: "E", 4: (108.0, 13.0, 14.88)}
        image.save(out, kind, exif=exif.tobytes())
    else:
        image.save(out, kind)
    return out.getvalue()


def file_report(client: Any, tokens: dict[str, Any], *, category: str = "street_light",
                at: tuple[float, float] = HAI_CHAU, photos: list[bytes] | None = None, **extra: Any) -> Any:
    fields = {"category_code": category, "description": "Đèn đường không sáng ba đêm nay", "lat": at[0],
              "lon": at[1], **extra}
    if photos is None:
        return client.post("/api/v1/reports", headers=bearer(tokens), json=fields)
    data: dict[str, Any] = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    data["file"] = [(io.BytesIO(p), f"photo{i}.jpg") for i, p in enumerate(photos)]
    return client.post("/api/v1/reports", headers=bearer(tokens), data=data, content_type="multipart/form-data")


def filed(client: Any, tokens: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = file_report(client, tokens, **kwargs)
    assert response.status_code == 201, response.json
    return response.json


def act(client: Any, tokens: dict[str, Any], report_id: str, action: str, **body: Any) -> Any:
    current = client.get(f"/api/v1/admin/reports/{report_id}", headers=bearer(tokens))
    assert current.status_code == 200, current.json
    return client.post(f"/api/v1/admin/reports/{report_id}/actions",
                       headers={**bearer(tokens), "If-Match": current.headers["ETag"]},
                       json={"action": action, **body})
