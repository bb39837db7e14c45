"""Customers' files: downloaded from the provider into the ``media`` object store."""
