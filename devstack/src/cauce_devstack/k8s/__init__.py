"""Offline validation of cauce's Kubernetes manifests (``make k8s-validate``).

:mod:`.render` turns every kustomize overlay (``kubectl kustomize``) and the helm chart
(helm-python-sdk, dev and prod values) into lists of manifests; :mod:`.schemas` checks
them against the Kubernetes 1.32 OpenAPI schemas (kubernetes-validate, strict);
:mod:`.policy` holds our own rules (probes, resources, non-root, pinned images, PDBs,
Services, NetworkPolicies, Secrets, and env names that match the settings classes).
:mod:`.catalogue` says which workload runs which workspace package and settings class.

Needs the workspace's dev dependency group (helm-python-sdk, kubernetes-validate) and
``kubectl`` on PATH.
"""
