"""What the person-level data commands did (``carepool data generate --json`` and
``carepool data ingest --json``): files written, rows read, kept and quarantined. Counts only:
no person-level value is ever part of these shapes."""

from __future__ import annotations

from carepool.person_data.service import GenerateReport, IngestReport, KindReport
from carepool.web.schemas.common import Schema


class KindIngest(Schema):
    """What happened to one record kind's rows, with the quarantine's reasons counted, and
    the accepted rows coded with a merged council counted by ``council to area``."""

    kind: str
    files: list[str]
    rows_read: int
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    mapped: dict[str, int]

    @classmethod
    def of(cls, report: KindReport) -> KindIngest:
        return cls(
            kind=report.kind,
            files=list(report.files),
            rows_read=report.rows_read,
            accepted=report.accepted,
            quarantined=report.quarantined,
            reasons=dict(sorted(report.reasons.items())),
            mapped=dict(sorted(report.mapped.items())),
        )


class IngestReportOut(Schema):
    """An ingest: the data vintage it made, the key that made the pseudonyms, and per kind
    what was read and kept."""

    vintage: str
    data_dir: str
    people: int
    key_id: str
    rows_read: int
    accepted: int
    quarantined: int
    kinds: list[KindIngest]
    skipped: list[str]
    seconds: float

    @classmethod
    def of(cls, report: IngestReport) -> IngestReportOut:
        return cls(
            vintage=report.vintage,
            data_dir=str(report.data_dir),
            people=report.people,
            key_id=report.key_id,
            rows_read=report.rows_read,
            accepted=sum(k.accepted for k in report.kinds),
            quarantined=report.quarantined,
            kinds=[KindIngest.of(k) for k in report.kinds],
            skipped=list(report.skipped),
            seconds=round(report.seconds, 3),
        )


class GeneratedFile(Schema):
    path: str
    rows: int


class GenerateReportOut(Schema):
    """What the generator wrote: one raw file per record kind, with its row count."""

    out_dir: str
    seed: int
    scale: float
    financial_year: str
    format: str
    files: dict[str, GeneratedFile]

    @classmethod
    def of(cls, report: GenerateReport) -> GenerateReportOut:
        return cls(
            out_dir=str(report.out_dir),
            seed=report.seed,
            scale=report.scale,
            financial_year=report.financial_year,
            format=report.file_format,
            files={
                kind: GeneratedFile(path=str(path), rows=rows)
                for kind, (path, rows) in report.files.items()
            },
        )
