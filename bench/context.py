"""What every measurement is handed: the run's settings and its databases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from bench.config import BenchConfig
from bench.writer import Writer
from conventions.harness.scratch import DatabaseFactory


@dataclass
class Context:
    config: BenchConfig
    factory: DatabaseFactory
    work: Path  # a temporary directory for generated projects and files
    url: URL | None = None  # the database holding the big table (measurements 1-4)
    writer: Writer | None = None

    def big_table(self) -> tuple[URL, Writer]:
        if self.url is None or self.writer is None:
            raise RuntimeError("this measurement needs the big table and the writer")
        return self.url, self.writer
