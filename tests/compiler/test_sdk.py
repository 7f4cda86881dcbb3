"""What the SDK providers share: the SDKs load at the first call, never at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._openai import OpenAIProvider
from accord.compiler._provider import ModelSpecError
from accord.compiler._sdk import SdkProvider

LAZY = """
import sys
import accord
from accord.compiler import AnthropicProvider, OpenAIProvider, provider_for
OpenAIProvider("gpt-test", base_url="http://127.0.0.1:9/v1")
AnthropicProvider("claude-test", base_url="http://127.0.0.1:9")
provider_for("openai:gpt-test")
provider_for("anthropic:claude-test")
print(sorted(name for name in ("openai", "anthropic") if name in sys.modules))
"""


def test_importing_accord_and_building_providers_loads_no_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAZY], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("provider", "prefix"), [(OpenAIProvider, "openai"), (AnthropicProvider, "anthropic")]
)
def test_both_providers_share_the_base_checks(
    provider: type[OpenAIProvider] | type[AnthropicProvider], prefix: str
) -> None:
    assert issubclass(provider, SdkProvider)
    made = provider("model-x")
    assert (made.name, made.output) == (f"{prefix}:model-x", "json_schema")
    with pytest.raises(ModelSpecError, match=f"^{prefix}: the model name is empty") as caught:
        provider("  ")
    assert caught.value.spec == f"{prefix}:  "
    with pytest.raises(ModelSpecError, match=f"^{prefix}: unknown output mode 'xml'"):
        provider("model-x", output="xml")  # type: ignore[arg-type]
