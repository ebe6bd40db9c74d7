"""Ordo's settings: every knob is an `ORDO_*` environment variable with an embedded default.

The defaults describe the one-machine stack that `ordo up` starts (dev server, SQLite,
simulators on localhost), so a new user needs to set nothing; production overrides the
addresses and the database URL.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDO_", extra="ignore")

    var_dir: Path = PROJECT_ROOT / "var"
    rules_dir: Path = PROJECT_ROOT / "rules"
    rules_reload_seconds: float = 1.0  # how often workers look for changed rule files
    shopify_secret: str = "ordo-dev-shopify-secret"  # the Shopify app's API secret (webhook HMAC)
    database_url: str = ""  # empty: SQLite file under var_dir
    # Units of every stock row kept back from a channel (JSON, e.g. {"taobao": 2}): the
    # marketplace's copy of our stock lags, so it is never shown the last few units.
    channel_buffers: dict[str, int] = {}
    # Each worker's Temporal SDK metrics (Prometheus, on 127.0.0.1 only), one port per queue in
    # the order of config.queues.ALL; the API's /metrics gathers them behind sign-in. Empty: off.
    worker_metrics_ports: list[int] = []
    low_stock_units: int = 5  # the console highlights a SKU at a warehouse with this many free units or fewer
    temporal_ui_url: str = ""  # the Web UI as people reach it, when not http://<temporal host>:<ui port>
    inventory_schedules: bool = True  # false: `ordo up` removes the two schedules below
    reconcile_every_minutes: float = 15.0  # WMS snapshot vs ledger (a Temporal schedule)
    reconcile_confirm_seconds: float = 60.0  # a difference must persist this long to be drift
    drift_alert_units: int = 5  # a correction larger than this is also an alert for a person
    rebalance_every_minutes: float = 10.0  # transfer rules over regions with backorders

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    temporal_api_key: str = ""
    temporal_tls: bool = False
    # strict: every workflow run in Temporal's import sandbox (catches a non-deterministic call
    # at once; the tests run so); passthrough: the sandbox without re-importing modules per run;
    # off: no sandbox (the cheapest; the replay tests hold the workflows deterministic).
    workflow_sandbox: Literal["strict", "passthrough", "off"] = "off"
    payload_encryption: bool = True  # every payload to Temporal AES-256-GCM encrypted (config/codec.py)
    temporal_tls_cert: str = ""  # mTLS: the client certificate and key files (PEM), and
    temporal_tls_key: str = ""  # the CA that signed the server's certificate, if private
    temporal_tls_ca: str = ""

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    wms_url: str = "http://127.0.0.1:8101"
    carriers_url: str = "http://127.0.0.1:8102"
    payments_url: str = "http://127.0.0.1:8103"

    # Shared secrets between Ordo and the systems it talks to (simulators use the same).
    qimen_app_key: str = "ordo-demo"
    qimen_secret: str = "qimen-demo-secret"
    sf_partner_id: str = "ORDO"
    sf_checkword: str = "sf-demo-checkword"
    alipay_app_id: str = "2021000000000000"
    alipay_secret: str = "alipay-demo-secret"
    carrier_push_secret: str = "carrier-demo-secret"
    zto_app_key: str = "ordo-zto"
    zto_secret: str = "zto-demo-secret"
    jd_app_key: str = "ordo-jd"
    jd_secret: str = "jd-demo-secret"
    # Carrier accounts: what each carrier's contract gives the shipper, sent with every booking.
    sf_monthly_card: str = "7551234567"  # SF 月结卡号: the account booked parcels are billed to
    zto_account_id: str = "ORDO"  # ZTO e-waybill account (accountInfo.accountId)
    jdl_customer_code: str = "ORDO"  # JD Logistics 商家编码 (customerCode / vendorCode)
    warehouse_contact_name: str = "Ordo warehouse"  # the sender on outbound labels
    warehouse_contact_phone: str = "4000000000"
    dhl_user: str = "ordo"
    dhl_password: str = "dhl-demo-password"
    kuaidi100_salt: str = "kuaidi100-demo-salt"
    channels_url: str = "http://127.0.0.1:8104"  # where waybills are written back (marketplace simulator)
    shopify_access_token: str = "shpat_demo"
    taobao_app_key: str = "ordo-taobao"
    taobao_secret: str = "taobao-demo-secret"

    # Sign-in (issue 14). Empty secrets: a random key made once under var/keys/ (0600).
    auth_secret: str = ""  # signs access tokens (HS256)
    audit_key: str = ""  # keys the audit trail's hash chain; keep it apart from the database
    access_token_minutes: float = 15.0
    refresh_token_hours: float = 12.0
    login_slow_after: int = 3  # failed sign-ins before each next try must wait (2 s, 4 s, ...)
    login_max_failures: int = 5  # then the account is locked for login_lock_minutes
    login_lock_minutes: float = 15.0
    token: str = ""  # the API key `ordo` commands use; empty: var/admin.token from `ordo up`
    # Optional: the company's OpenID Connect provider (services/oidc.py)
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks: str = ""  # the key set: https://... (fetched, cached) or a file path
    oidc_role_claim: str = "ordo_role"  # a role name, or group names mapped below
    oidc_role_map: dict[str, str] = {}  # e.g. {"oms-ops": "operator"}
    retention_days: float = 365.0  # personal data of orders closed this long ago is erased
    retention_check_minutes: float = 60.0  # how often the dispatcher applies it
    tls_certfile: str = ""  # both set: the API serves HTTPS (and its cookies are Secure)
    tls_keyfile: str = ""

    http_timeout_seconds: float = 10.0
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'ordo.db'}"

    @property
    def api_url(self) -> str:
        scheme = "https" if self.tls_certfile and self.tls_keyfile else "http"
        return f"{scheme}://{self.api_host}:{self.api_port}"

    @property
    def admin_token_file(self) -> Path:
        """The local admin API key `ordo up` writes once (0600) for the demo and `ordo` commands."""
        return self.var_dir / "admin.token"

    @property
    def admin_password_file(self) -> Path:
        return self.var_dir / "admin.password"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
