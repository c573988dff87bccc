"""What a client can put into the drift window (issue 12, item 2: bound the quality measures).

A predictor that serves symbols measures the market: client rows never enter its window. One
that serves none measures its clients, at most ``client_rows_per_second`` rows a second, so
one huge batch (or a flood) cannot replace the window.
"""

from __future__ import annotations

import numpy as np

from levibot_predictor.core.window import RowWindow, plan_client_rows
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app


def rows(n: int, value: float = 1.0) -> np.ndarray:
    return np.full((n, 3), value, dtype=np.float32)


def test_client_rows_never_enter_a_window_that_measures_the_market() -> None:
    window = RowWindow(100, 3, client_rows_per_second=0)
    window.add(rows(50), now=10.0)
    assert window.count == 0
    assert window.add_symbol("BTCUSDT", 10, rows(1, 2.0))
    assert window.count == 1


def test_client_rows_are_capped_per_second() -> None:
    window = RowWindow(1000, 3, client_rows_per_second=5)
    window.add(rows(1000, 1.0), now=10.2)
    window.add(rows(1000, 2.0), now=10.9)  # same second: the cap is spent
    assert window.count == 5
    window.add(rows(3, 3.0), now=11.0)
    window.add(rows(3, 4.0), now=11.5)
    sample = window.select(12.0)
    np.testing.assert_array_equal(sample.rows[:, 0], [1.0] * 5 + [3.0] * 3 + [4.0] * 2)


def test_uncapped_by_default() -> None:
    window = RowWindow(100, 3)
    window.add(rows(70), now=1.0)
    assert window.count == 70


def test_the_cap_follows_what_the_predictor_measures() -> None:
    assert plan_client_rows(serves_symbols=True, per_second=10) == 0
    assert plan_client_rows(serves_symbols=False, per_second=10) == 10


async def test_the_app_keeps_client_rows_out_when_it_serves_symbols() -> None:
    model = make_model()
    body = {"rows": [dict.fromkeys(model.features, 9.0)] * 200}
    for symbols, expected in (([], 10), (["BTCUSDT"], 0)):
        settings = make_settings(symbols=symbols)
        async with running_app(settings, make_loaded(model, settings)) as running:
            for _ in range(3):
                assert (await running.client.post("/v1/predict", json=body)).status_code == 200
            count = running.app.state.service.window.count
        assert count in (expected, 2 * expected), symbols  # 3 requests, within 1 or 2 seconds
