"""Workspace-wide pytest setup: real-server fixtures for every package's tests."""

pytest_plugins = ["cauce_devstack.pytest_plugin"]
