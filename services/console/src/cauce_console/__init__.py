"""The cauce console: the agents' inbox (and, next, the campaign dashboard) in a browser,
server-rendered over the same APIs and permissions as any other client."""
