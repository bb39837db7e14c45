"""cauce identity: companies, users, roles, logins and API keys; the signer of the
access tokens every service verifies locally (``cauce_runtime.identity``)."""
