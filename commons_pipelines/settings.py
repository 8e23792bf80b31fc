"""Where things go, read from the environment once; every path has an embedded default under `.commons/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    target: str
    publish_dir: Path
    hf_endpoint: str
    hub_namespace: str | None
    timezone: str
    max_shard_bytes: int
    workers: int = 1

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def curated_dir(self) -> Path:
        return self.home / "curated"

    @property
    def dlt_dir(self) -> Path:
        return self.home / "dlt"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("COMMONS_HOME", ".commons")).absolute()
        target = env.get("COMMONS_TARGET", "local")
        if target not in ("local", "hub"):
            raise ValueError(f"COMMONS_TARGET={target!r}: allowed values are 'local' and 'hub'")
        return cls(
            home=home,
            target=target,
            publish_dir=Path(env.get("COMMONS_PUBLISH_DIR", home / "published")).absolute(),
            hf_endpoint=env.get("HF_ENDPOINT", "https://huggingface.co"),
            hub_namespace=env.get("COMMONS_HUB_NAMESPACE") or None,
            timezone=env.get("COMMONS_TIMEZONE", "UTC"),
            max_shard_bytes=int(float(env.get("COMMONS_MAX_SHARD_MB", "500")) * 1_000_000),
            workers=_positive(env, "COMMONS_WORKERS", os.cpu_count() or 1),
        )


def _positive(env, name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: a whole number of processes, 1 or more")
    return int(value)


PII_KEY_ENV = "COMMONS_PII_KEY"


def pii_key(env: dict[str, str] | None = None) -> bytes | None:
    """The secret that keys pseudonymisation (HMAC). Read when curation runs, never stored in settings or metadata."""
    value = (os.environ if env is None else env).get(PII_KEY_ENV)
    return value.encode("utf-8") if value else None
