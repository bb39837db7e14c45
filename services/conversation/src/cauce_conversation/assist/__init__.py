"""AI assist for agents (the seed's Gemini features): a chat's summary, insights and a
draft reply, behind one provider interface (:mod:`.provider`). Without a model the
offline default (:mod:`.offline`) gives what can be computed honestly, and says so."""
