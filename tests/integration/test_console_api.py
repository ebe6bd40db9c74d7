"""The endpoints behind the console, over HTTP with real keys: the work queue (grouped,
oldest first, scoped), the order list's filters and paging, the CSV export (needs
`exports:run`, audited), the division choosers, the inventory page, the rule what-if
(check with line numbers, simulate, publish only for rules-admin and only what passes),
the console's own files with their content policy, and /metrics with a worker's SDK
metrics gathered from its port. SQLite, and PostgreSQL in CI; no Temporal is needed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import httpx
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from api.app import create_app
from cli import history
from cli.processes import free_ports
from config.settings import PROJECT_ROOT, Settings
from domain.access import Role
from domain.kpis import KPIS
from store.db import make_engine
from tests.harness import auth_headers, prepare_database, serve_app


async def test_the_console_endpoints(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    rules_dir = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "rules", rules_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    [metrics_port] = free_ports(1)
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{metrics_port}"))
    )
    runtime.metric_meter.create_counter("ordo_test_counter", "a worker's metric").add(3)
    try:
        await history.seed(engine, 400, 30, waiting=25, seed_value=5)
        settings = Settings(
            database_url=db_url,
            var_dir=tmp_path,
            rules_dir=rules_dir,
            temporal_address="127.0.0.1:1",
            worker_metrics_ports=[metrics_port],
        )
        app = create_app(settings)
        admin = await auth_headers(settings)
        tmall = await auth_headers(settings, Role.OPERATOR, channels=["tmall"])
        viewer = await auth_headers(settings, Role.VIEWER)
        rules_admin = await auth_headers(settings, Role.RULES_ADMIN)
        async with serve_app(app) as api, httpx.AsyncClient(base_url=api, timeout=60, headers=admin) as http:
            queue = (await http.get("/v1/work-queue")).json()
            assert queue["waiting"] == 25 == sum(g["count"] for g in queue["groups"])
            for group in queue["groups"]:
                since = [o["waiting_since"] for o in group["orders"]]
                assert since == sorted(since) and all(
                    o["exception_type"] == group["exception_type"] for o in group["orders"]
                )
            scoped = (await http.get("/v1/work-queue", headers=tmall)).json()
            assert 0 < scoped["waiting"] < 25
            assert {o["order_id"].split("-")[0] for g in scoped["groups"] for o in g["orders"]} == {"tmall"}
            assert scoped["fingerprint"] != queue["fingerprint"]

            page = (await http.get("/v1/orders/search", params={"channel": "jd", "per_page": 10})).json()
            assert page["total"] > 10 and len(page["rows"]) == 10
            assert all(r["channel"] == "jd" for r in page["rows"])
            created = [r["created_at"] for r in page["rows"]]
            assert created == sorted(created, reverse=True)
            second = (
                await http.get("/v1/orders/search", params={"channel": "jd", "per_page": 10, "page": 2})
            ).json()
            assert not {r["order_id"] for r in second["rows"]} & {r["order_id"] for r in page["rows"]}
            priced = (
                await http.get("/v1/orders/search", params={"min_total": "100", "max_total": "200"})
            ).json()
            assert priced["rows"] and all(100 <= float(r["total"]) <= 200 for r in priced["rows"])
            bad = await http.get(
                "/v1/orders/search", params={"date_from": "2026-12-02", "date_to": "2026-12-01"}
            )
            assert bad.status_code == 422 and "date_from is after date_to" in bad.text
            assert (await http.get("/v1/orders/search", params={"colour": "red"})).status_code == 422
            hidden = (await http.get("/v1/orders/search", params={"channel": "jd"}, headers=tmall)).json()
            assert hidden["total"] == 0

            export = await http.get("/v1/orders/export.csv", params={"channel": "jd"})
            assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(export.text)))
            assert len(rows) == page["total"] and {r["channel"] for r in rows} == {"jd"}
            assert (await http.get("/v1/orders/export.csv", headers=tmall)).status_code == 403
            trail = (await http.get("/v1/audit", params={"action": "orders.export"})).json()["entries"]
            assert trail and trail[0]["detail"]["filters"] == {"channel": "jd"}

            provinces = (await http.get("/v1/divisions")).json()["divisions"]
            zhejiang = next(p for p in provinces if p["name"] == "浙江省")
            cities = (await http.get("/v1/divisions", params={"parent": zhejiang["code"]})).json()[
                "divisions"
            ]
            hangzhou = next(c for c in cities if c["name"] == "杭州市")
            districts = (await http.get("/v1/divisions", params={"parent": hangzhou["code"]})).json()[
                "divisions"
            ]
            assert "西湖区" in {d["name"] for d in districts}
            assert (await http.get("/v1/divisions", params={"parent": "zj"})).status_code == 422

            levels = (await http.get("/v1/inventory/levels")).json()
            assert len(levels["levels"]) == 116
            available = [x["available"] for x in levels["levels"]]
            assert available == sorted(available)
            low = (await http.get("/v1/inventory/levels", params={"low": "true"})).json()["levels"]
            assert all(x["low"] and x["available"] <= levels["low_stock_units"] for x in low)
            moves = (await http.get("/v1/inventory/movements", params={"sku": "RICE-5KG"})).json()[
                "movements"
            ]
            assert moves and {m["sku"] for m in moves} == {"RICE-5KG"}

            files = (await http.get("/v1/rules/files")).json()["files"]
            priority = next(f for f in files if f["ruleset"] == "priority")
            broken = priority["text"].replace("hit_policy:", "hit_polcy:", 1)
            checked = (await http.post("/v1/rules/check", json={"text": broken})).json()
            assert not checked["ok"] and checked["problems"][0]["line"] >= 1
            assert "hit_polcy" in checked["problems"][0]["message"]
            same = (await http.post("/v1/rules/check", json={"text": priority["text"]})).json()
            assert same["ok"] and same["diff"] == "" and same["version"] == priority["version"]
            report = (
                await http.post("/v1/rules/simulate", json={"text": priority["text"], "last": 50})
            ).json()
            assert report["ruleset"] == "priority" and report["changed"] == 0
            refused = await http.post(
                "/v1/rules/publish", json={"text": broken, "reason": "typo"}, headers=rules_admin
            )
            assert refused.status_code == 422
            assert (
                await http.post(
                    "/v1/rules/publish", json={"text": priority["text"], "reason": "x"}, headers=viewer
                )
            ).status_code == 403
            edited = priority["text"].rstrip("\n") + "\n# reviewed by the console test\n"
            done = await http.post(
                "/v1/rules/publish", json={"text": edited, "reason": "a comment"}, headers=rules_admin
            )
            assert done.status_code == 200, done.text
            assert (rules_dir / priority["file"]).read_text(encoding="utf-8") == edited
            log = (await http.get("/v1/rules/versions", params={"ruleset": "priority"})).json()["versions"]
            assert log[0]["loaded_by"].startswith("token:") and log[0]["version"] == done.json()["version"]
            history_diff = (await http.get("/v1/rules/history/priority")).json()["versions"]
            assert history_diff[0]["version"] == done.json()["version"]
            published = (await http.get("/v1/audit", params={"action": "rules.publish"})).json()["entries"]
            assert published[0]["detail"]["reason"] == "a comment" and published[0]["actor"].startswith(
                "token:"
            )

            today = dt.datetime.now(dt.UTC).date()
            span = {"date_from": str(today - dt.timedelta(days=29)), "date_to": str(today)}
            figures = (await http.get("/v1/dashboard", params=span)).json()["figures"]
            assert [f["kpi"]["id"] for f in figures] == list(KPIS) and all(f["rows"] for f in figures)
            one = (await http.get("/v1/dashboard/cancel_refund", params={**span, "channel": "jd"})).json()
            assert one["orders_link"] == {**span, "channel": "jd", "status": "cancelled"}
            table = await http.get("/v1/dashboard/top_sellers/csv", params=span)
            lines = table.text.splitlines()
            assert lines[0] == "sku,units,revenue" and len(lines) == 21
            assert (await http.get("/v1/dashboard/nope", params=span)).status_code == 404
            assert (await http.get("/v1/dashboard", params={"date_from": str(today)})).status_code == 422

            held = queue["groups"][0]["orders"][0]["order_id"]
            steps = (await http.get(f"/v1/orders/{held}/timeline")).json()["transitions"]
            assert [x["status"] for x in steps][-1] == "awaiting_operator"
            assert (await http.get(f"/v1/orders/{held}/explain")).json() == {"decisions": []}
            about = (await http.get("/v1/console/settings")).json()
            assert about["namespace"] == "default" and about["temporal_ui"].startswith("http://")

            page_html = await http.get("/console", headers={"authorization": ""})
            assert (
                page_html.status_code == 200
                and "script-src 'self'" in page_html.headers["content-security-policy"]
            )
            script = await http.get("/console/assets/main.js")
            assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
            assert (await http.get("/console/assets/..%2Fapp.py")).status_code == 404
            assert "http" not in {s.split("//")[0] for s in page_html.text.split('src="')[1:]}

            scrape = await http.get("/metrics")
            assert scrape.status_code == 200
            assert 'ordo_orders{status="awaiting_operator"} 25.0' in scrape.text
            assert 'ordo_worker_metrics_up{queue="orders"} 1.0' in scrape.text
            [counter] = [line for line in scrape.text.splitlines() if line.startswith("ordo_test_counter")]
            assert 'queue="orders"' in counter and counter.endswith(" 3.0")
            async with httpx.AsyncClient(base_url=api) as anonymous:
                assert (await anonymous.get("/metrics")).status_code == 401
                assert (await anonymous.get("/v1/work-queue")).status_code == 401
    finally:
        await engine.dispose()
