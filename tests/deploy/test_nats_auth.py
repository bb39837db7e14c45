"""NATS users in Kubernetes: every rendering runs NATS with the users of
``cauce_contracts.bus_access``, each service holds the seed of exactly the public key
the server knows for it, and the prod renderings add TLS the services verify."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml

from cauce_contracts.bus_access import ACCESS, all_permissions, authorization
from cauce_devstack.k8s.render import Manifest, Rendering
from cauce_devstack.servers.nats_keys import public_key

from .conftest import REPO_ROOT, find

CHART = REPO_ROOT / "deploy" / "helm" / "cauce"
DEV_OVERLAY = REPO_ROOT / "deploy" / "k8s" / "overlays" / "dev"
SERVICES = [user for user in ACCESS if user != "provisioning"]


def test_the_charts_permissions_are_the_contracts() -> None:
    shipped = json.loads((CHART / "files" / "bus-permissions.json").read_text())
    assert shipped == all_permissions(), (
        "regenerate: python -m cauce_contracts.bus_access --permissions "
        "> deploy/helm/cauce/files/bus-permissions.json"
    )


def _secret_value(manifest: Manifest, key: str) -> str:
    if key in manifest.get("stringData", {}):
        return str(manifest["stringData"][key])
    return base64.b64decode(manifest["data"][key]).decode()


def _served_authorization(manifests: list[Manifest]) -> dict[str, Any]:
    conf = _secret_value(find(manifests, "Secret", "nats-auth"), "auth.conf")
    body = "\n".join(line for line in conf.splitlines() if not line.startswith("#"))
    return dict(json.loads(body.strip().removeprefix("authorization:")))


def test_dev_renderings_grant_each_services_seed_its_permissions(
    renderings: dict[str, Rendering],
) -> None:
    for source in ("kustomize/dev", "helm/dev"):
        manifests = renderings[source].manifests
        seeds = {
            user: _secret_value(
                find(manifests, "Secret", f"{user}-secrets"), "cauce_nats_nkey_seed"
            )
            for user in ACCESS
        }
        expected = authorization({user: public_key(seed) for user, seed in seeds.items()})
        served = _served_authorization(manifests)
        assert sorted(served["users"], key=json.dumps) == sorted(
            expected["users"], key=json.dumps
        ), source


def test_prod_renderings_name_every_service_and_serve_tls(
    renderings: dict[str, Rendering],
) -> None:
    for source in ("kustomize/prod", "helm/prod"):
        manifests = renderings[source].manifests
        pod = find(manifests, "StatefulSet", "nats")["spec"]["template"]["spec"]
        secrets = {v["name"]: v.get("secret", {}).get("secretName") for v in pod["volumes"]}
        assert (secrets["auth"], secrets["tls"]) == ("nats-auth", "nats-tls"), source
        config = find(manifests, "ConfigMap", "cauce-common-config")["data"]
        assert config["CAUCE_NATS_URL"] == "tls://nats:4222", source
        assert config["CAUCE_NATS_CA_FILE"] == "/etc/nats-ca/ca.crt", source
        nats_conf = find(manifests, "ConfigMap", "nats-config")["data"]["nats.conf"]
        assert "cert_file: /etc/nats-tls/tls.crt" in nats_conf, source
        assert 'include "../nats-auth/auth.conf"' in nats_conf, source
        for service in SERVICES:
            pod = find(manifests, "Deployment", service)["spec"]["template"]["spec"]
            [volume] = [v for v in pod["volumes"] if v["name"] == "nats-ca"]
            assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}], source
            mounts = pod["containers"][0]["volumeMounts"]
            assert {"name": "nats-ca", "mountPath": "/etc/nats-ca", "readOnly": True} in mounts


def test_the_dev_overlays_auth_conf_file_matches_its_seeds() -> None:
    kustomization = yaml.safe_load((DEV_OVERLAY / "kustomization.yaml").read_text())
    seeds = {
        generator["name"].removesuffix("-secrets"): literal.split("=", 1)[1]
        for generator in kustomization["secretGenerator"]
        for literal in generator.get("literals", [])
        if literal.startswith("cauce_nats_nkey_seed=")
    }
    assert set(seeds) == set(ACCESS)
    served = _served_authorization(
        [
            {
                "kind": "Secret",
                "metadata": {"name": "nats-auth"},
                "stringData": {"auth.conf": Path(DEV_OVERLAY / "nats-auth/auth.conf").read_text()},
            }
        ]
    )
    assert served == authorization({user: public_key(seed) for user, seed in seeds.items()})
