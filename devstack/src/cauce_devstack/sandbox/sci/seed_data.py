"""The debts the SCI TOTAL fake answers per plate: a few known plates for tests and the
demo, and a deterministic generated debt for any other, so a demo can type any plate
and always see the same numbers."""

from __future__ import annotations

import hashlib
from typing import Any


def _debt(
    placa: str,
    declaracion: int,
    vigencia: int,
    avaluo: int,
    impto: int,
    sancion: int,
    interes: int,
    fecha_lim: str,
    *,
    muni: tuple[str, str, str, str] = ("307", "68", "GIRON", "SANTANDER"),
    dest: tuple[str, str, str, str] = ("655", "68", "SABANA DE TORRES", "SANTANDER"),
    total: int | None = None,
) -> dict[str, Any]:
    """One debt record in SCI's shape. ``saldoPagar`` = impto + sanción + interés;
    ``total`` adds SCI's collection charges unless given."""
    saldo = impto + sancion + interes
    valor_muni = round(impto * 0.2 + sancion * 0.2)
    return {
        "placa": placa,
        "declaracion": declaracion,
        "vigencia": vigencia,
        "codiMuniMatr": muni[0],
        "codiDeptoMatr": muni[1],
        "muniMatr": muni[2],
        "deptoMatr": muni[3],
        "avaluo": avaluo,
        "impto": impto,
        "sancion": sancion,
        "interes": interes,
        "saldoPagar": saldo,
        "total": total if total is not None else saldo + round(saldo * 0.0366),
        "codiMuniDest": dest[0],
        "codiDeptoDest": dest[1],
        "muniDest": dest[2],
        "deptoDest": dest[3],
        "valorMuni": valor_muni,
        "valorDepto": saldo - valor_muni,
        "fechaLim": fecha_lim,
    }


#: HHO137's record verbatim: SCI's own figures, whose ``total`` :func:`_debt` would not
#: reproduce.
HHO137_2025: dict[str, Any] = {
    "placa": "HHO137",
    "declaracion": 108818889,
    "vigencia": 2025,
    "codiMuniMatr": "307",
    "codiDeptoMatr": "68",
    "muniMatr": "GIRON",
    "deptoMatr": "SANTANDER",
    "avaluo": 49116000,
    "impto": 737000,
    "sancion": 184000,
    "interes": 0,
    "saldoPagar": 921000,
    "total": 954688,
    "codiMuniDest": "655",
    "codiDeptoDest": "68",
    "muniDest": "SABANA DE TORRES",
    "deptoDest": "SANTANDER",
    "valorMuni": 184200,
    "valorDepto": 736800,
    "fechaLim": "2025-09-01T00:00:00",
}

_BUCARAMANGA = ("001", "68", "BUCARAMANGA", "SANTANDER")

#: Plate -> its debt records (``[]``: owes nothing).
KNOWN_DEBTS: dict[str, list[dict[str, Any]]] = {
    "HHO137": [HHO137_2025],
    "ABC123": [
        _debt(
            "ABC123",
            98811201,
            2023,
            38500000,
            577000,
            288000,
            241000,
            "2023-07-31T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
        _debt(
            "ABC123",
            103922415,
            2024,
            36900000,
            553000,
            276000,
            98000,
            "2024-07-31T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
        _debt(
            "ABC123",
            108822730,
            2025,
            35100000,
            526000,
            0,
            0,
            "2025-09-01T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
    ],
    "KJU45F": [
        _debt(
            "KJU45F",
            108830512,
            2025,
            7200000,
            108000,
            0,
            0,
            "2025-09-01T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
    ],
    "XYZ987": [],
}
#: Plates whose lookup fails with this HTTP status.
FAILING_PLATES: dict[str, int] = {"ERR500": 500}


def debts_for(placa: str) -> list[dict[str, Any]]:
    """The debt records of ``placa``: a known plate's, else one generated, stable debt."""
    if placa in KNOWN_DEBTS:
        return KNOWN_DEBTS[placa]
    digest = hashlib.sha256(placa.encode()).digest()
    avaluo = 20_000_000 + int.from_bytes(digest[:3], "big") % 60_000 * 1000
    impto = round(avaluo * 0.015 / 1000) * 1000
    return [
        _debt(
            placa,
            110_000_000 + int.from_bytes(digest[3:6], "big") % 9_000_000,
            2025,
            avaluo,
            impto,
            0,
            0,
            "2025-09-01T00:00:00",
        )
    ]
