"""The open data page and its downloads: every table listed with its size and glossary, each
download served, and the served package valid as it stands.

The world (``payment_fixtures``): the demo, 2015-16 Q1 paid and Q2 drafted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from frictionless import validate
from sqlalchemy import Engine
from test_pages_html import check_page

from carepool.publication.service import tables

pytest_plugins = ("payment_fixtures",)  # payment_engine

ClientFor = Callable[..., Any]


def test_the_page_lists_every_table_with_its_download_and_glossary(
    payment_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(payment_engine)
    page = client.get("/open-data")
    assert page.status_code == 200
    check_page(page.text, "/open-data")
    for table in tables.TABLES:
        assert f'href="/open-data/{table.name}.csv"' in page.text
        assert f'id="glossary-{table.name}"' in page.text
        for column in table.columns:
            assert f"<code>{column.name}</code>" in page.text
    assert "Open Government Licence v3.0" in page.text
    for download in ("datapackage.json", "360giving.json", "360giving.csv"):
        assert f'href="/open-data/{download}"' in page.text


def test_every_download_is_served_and_the_served_package_validates(
    payment_engine: Engine, client_for: ClientFor, tmp_path: Path
) -> None:
    client = client_for(payment_engine)
    descriptor = client.get("/open-data/datapackage.json")
    assert descriptor.headers["content-type"].startswith("application/json")
    (tmp_path / "datapackage.json").write_bytes(descriptor.content)
    for resource in descriptor.json()["resources"]:
        served = client.get(f"/open-data/{resource['path']}")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/csv")
        (tmp_path / resource["path"]).write_bytes(served.content)
        header = next(csv.reader(io.StringIO(served.text)))
        assert header == [f["name"] for f in resource["schema"]["fields"]]
    report = validate(tmp_path / "datapackage.json")
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:5]
    grants = client.get("/open-data/360giving.json").json()["grants"]
    flat = list(csv.reader(io.StringIO(client.get("/open-data/360giving.csv").text)))
    assert len(flat) == len(grants) + 1
    assert client.get("/open-data/nothing.csv").status_code == 404


def test_each_metric_page_offers_its_csv(payment_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(payment_engine)
    metric = "non_elective_admissions"
    assert f'href="/open-data/metrics/{metric}.csv"' in client.get("/metrics").text
    served = client.get(f"/open-data/metrics/{metric}.csv")
    assert served.status_code == 200
    rows = list(csv.DictReader(io.StringIO(served.text)))
    assert rows and {row["metric"] for row in rows} == {metric}
    assert client.get("/open-data/metrics/no_such_metric.csv").status_code == 404


def test_the_served_grants_are_the_published_ones(
    payment_engine: Engine, client_for: ClientFor
) -> None:
    served = client_for(payment_engine).get("/open-data/360giving.json").json()
    assert served["license"].startswith("https://www.nationalarchives.gov.uk/")
    assert json.dumps(served).count("360G-carepool-payment-") > 0
