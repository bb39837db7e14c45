"""Short links with click tracking: URLs a campaign (or a reply's button) sends go out
as ``<CAUCE_SHORT_LINK_BASE_URL>/l/<code>``, served by the notifier, which redirects
and records the click."""
