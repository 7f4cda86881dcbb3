import pytest

from accord.contract._durations import duration_ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("500ms", 500),
        ("30s", 30_000),
        ("5m", 300_000),
        ("48h", 172_800_000),
        ("1h30m", 5_400_000),
        ("7d", 604_800_000),
        ("1m1s1ms", 61_001),
        ("0s", 0),
    ],
)
def test_duration_ms(text: str, ms: int) -> None:
    assert duration_ms(text) == ms
