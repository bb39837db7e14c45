"""Who answers a chat the bot handed over: teams, agents' availability and capacity,
and the assigner that gives waiting chats to agents without ever exceeding a limit."""
