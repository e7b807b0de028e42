"""Credentials for BigQuery: Google's Application Default Credentials.

Off Google Cloud they are looked for only where a user puts them (GOOGLE_APPLICATION_CREDENTIALS,
gcloud's ADC file): google.auth.default's last resort, probing the GCE metadata server, takes seconds
(3 tries with backoff) and sends traffic off the machine, so it runs only where a metadata server can
exist.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecom.targets.base import TargetError
from ecom.targets.bigquery.errors import message_of

SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")
HOW_TO_AUTHENTICATE = (
    "no Google credentials found: run `gcloud auth application-default login`, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file "
    "(or point --endpoint / BIGQUERY_EMULATOR_HOST at a BigQuery emulator)"
)


def _on_google_cloud() -> bool:
    """Whether a GCE-style metadata server may answer here (GCE, GKE, Cloud Run, functions, GAE)."""
    hints = (
        "GCE_METADATA_HOST",
        "GCE_METADATA_ROOT",
        "GCE_METADATA_IP",
        "K_SERVICE",
        "CLOUD_RUN_JOB",
        "FUNCTION_TARGET",
        "GAE_ENV",
        "KUBERNETES_SERVICE_HOST",
    )
    if any(os.environ.get(h) for h in hints):
        return True
    try:
        return Path("/sys/class/dmi/id/product_name").read_text().strip().startswith("Google")
    except OSError:
        return False


def _gcloud_adc_path() -> Path:
    try:
        from google.auth import _cloud_sdk

        return Path(_cloud_sdk.get_application_default_credentials_path())
    except Exception:  # the private helper moved: gcloud's documented location
        root = os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud"
        return Path(root) / "application_default_credentials.json"


def _gcloud_project() -> str | None:
    """gcloud's configured project, as google.auth.default reads it (None without gcloud)."""
    try:
        from google.auth import _cloud_sdk

        return _cloud_sdk.get_project_id()
    except Exception:
        return None


def default_credentials() -> tuple[Any, str | None]:
    """Application Default Credentials and their project, or TargetError saying how to get them."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        if _on_google_cloud():
            return google.auth.default(scopes=list(SCOPES))
        explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        path = Path(explicit) if explicit else _gcloud_adc_path()
        if explicit and path.is_dir():
            raise TargetError(
                f"GOOGLE_APPLICATION_CREDENTIALS names the folder {explicit}: set it to a service-account key file"
            )
        if explicit or path.is_file():
            try:
                creds, project = google.auth.load_credentials_from_file(str(path), scopes=list(SCOPES))
            except (AttributeError, TypeError):  # JSON, but not an object: google-auth calls .get() on it
                raise DefaultCredentialsError(f"File {path} is not a credentials file (a JSON object)") from None
            return creds, project or os.environ.get("GOOGLE_CLOUD_PROJECT") or _gcloud_project()
    except DefaultCredentialsError as e:
        raise _unusable(e) from None
    raise TargetError(HOW_TO_AUTHENTICATE)


def _unusable(e: Exception) -> TargetError:
    """google-auth's refusal of the credentials as what to do: how to authenticate when none were
    set, else what is wrong with the file GOOGLE_APPLICATION_CREDENTIALS (or Google Cloud) gave."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not (explicit or _on_google_cloud()):
        return TargetError(HOW_TO_AUTHENTICATE)
    # google-auth gives (message, the JSON error) for a file that is not a key: the message alone
    reason = e.args[0] if e.args and isinstance(e.args[0], str) else message_of(e)
    if explicit:
        return TargetError(
            f"GOOGLE_APPLICATION_CREDENTIALS={explicit}: {reason.rstrip('.')}; set it to a service-account "
            "key file, or unset it and run `gcloud auth application-default login`"
        )
    return TargetError(f"Google credentials unusable: {reason}")
