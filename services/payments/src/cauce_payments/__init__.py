"""cauce payments: vehicle-tax debt lookups and SCI TOTAL payment links."""
