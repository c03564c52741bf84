"""Every kind the services can write has a Vietnamese and an English text with the same parameters."""

from __future__ import annotations

import pytest

from notifications import templates
from services.dossiers.table import TABLE
from vocab import DossierStatus

# What the services can write: a status the citizen may see, what the lifecycle table tells, a
# payment result, or a staff event.
WRITTEN = ({f"dossier.{s}" for s in DossierStatus if s != "draft"} | {kind for t in TABLE for _, kind in t.tells}
           | {"payment.succeeded", "payment.failed", "payment.cancelled", "staff.due_soon", "staff.overdue"})


def test_every_kind_written_has_a_text():
    assert templates.kinds() >= WRITTEN


@pytest.mark.parametrize("kind", sorted(templates.kinds()))
def test_both_languages_use_the_same_parameters(kind):
    assert templates.placeholders(kind, "vi") == templates.placeholders(kind, "en")


def test_rendering_fills_parameters_and_never_fails_for_a_missing_one():
    title, body = templates.render("dossier.received", {"code": "H47-1", "procedure": "Khai sinh",
                                                         "due_date": "01/12/2026"}, "vi")
    assert title == "Hồ sơ H47-1 đã được tiếp nhận" and body.endswith("Hạn trả kết quả: 01/12/2026.")
    assert templates.render("dossier.rejected", {"code": "X"}, "en")[1] == "Your – dossier was not granted. Reason: –"
    assert templates.render("dossier.completed", {"code": "X", "procedure": "P"}, "fr")[0].startswith("Hồ sơ")


def test_english_picks_the_english_twin_of_a_parameter_where_there_is_one():
    params = {"code": "X", "procedure": "Khai sinh", "procedure_en": "Birth registration"}
    assert templates.render("dossier.completed", params, "en")[1].startswith("Your Birth registration dossier")
    assert templates.render("dossier.completed", params, "vi")[1].startswith("Hồ sơ Khai sinh ")
    assert templates.render("dossier.completed", params, "fr")[1].startswith("Hồ sơ Khai sinh ")
    # A procedure without an English name (null), or a row from before: the Vietnamese name.
    for old in ({**params, "procedure_en": None}, {"code": "X", "procedure": "Khai sinh"}):
        assert templates.render("dossier.completed", old, "en")[1].startswith("Your Khai sinh dossier")
