"""Data files of the catalog and the calendar: `danang.json` (Đà Nẵng city after the merger of 1 July 2025)
and `calendar_vn.json` (days off and make-up working days the Government announced for 2025 and 2026).

Procedure codes (mã TTHC on Cổng dịch vụ công quốc gia). Checked: these are the national codes we are
confident of. We recognise them; we did not look them up live in the national database:
1.001193 birth registration, 1.000656 death registration, 1.000894 marriage registration, 1.004873
certificate of marital status, 2.000635 copies of civil-status extracts, 2.000908 certification of copies
from originals, 2.000488 judicial record certificate. 2.000488 was issued when the Department of Justice
handled the procedure. Since 1 March 2025 the police handle it, so check that the national code did not
change with the new procedure set.

Placeholders awaiting checking. These are carried over from the former Quảng Nam demo catalog in the
national format, but we have not confirmed them: 1.004194 permanent residence, 1.004206 removal of
permanent residence, 1.004198 temporary residence, 1.004229 confirmation of residence, 1.002800
health-insurance card for a child under 6, 1.001776 funeral support (social protection, Sở Nội vụ),
2.000575 household business, 1.009994 construction permit for a house, 1.002286 permit for repair or
renovation, 2.001610 private enterprise, 1.001743 monthly social allowance for the elderly.
9.000101 funeral allowance (social insurance) is a local placeholder. The 9. prefix marks a code that is
not national. Replace it with the social insurance's national code.

Agency identifiers (mã định danh, Decision 20/2020/QĐ-TTg, `XXX.YY.ZZ.Hnn`): the letter group H15 is our
reconstruction of Đà Nẵng's code. We ordered the former 63 provinces alphabetically, and that order
matches Quảng Nam H47, Lào Cai H38 and Thái Nguyên H55. It is a placeholder: we did not check it against
the published list, and we did not confirm that the merged city kept it. It is not H43, which that order
gives to Ninh Thuận. The department numbers (19 Justice, 15 Construction, 13 Finance, 17 Home Affairs, 25
Health, 21 Social Insurance, 23 Police, 02 the city's public administration service centre) and the
commune numbers `000.20.NN.H15` are placeholders that follow the shape of the format. Replace them with the
city's own list.

Commune and ward codes (`ward_codes`, 5 digits): these are the 93 communes and wards of the city that
have a people's committee, under Resolution 1659/NQ-UBTVQH15. The Hoàng Sa special zone (20333) has no
one-stop desk and is left out. Each code is the code the new unit took over from one of its former units
in the 2025 list of administrative unit codes (Decision 19/2025/QĐ-TTg). We copied the codes from public
datasets. Five of them (Hải Vân 20194, Liên Chiểu 20197, Hòa Khánh 20200, Thanh Khê 20209, Hải Châu
20242) agree across two independent sources. The rest come from one source. Check them against the
official list before production.
"""
