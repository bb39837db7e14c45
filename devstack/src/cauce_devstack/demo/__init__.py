"""``make demo``: a scripted customer pays their vehicle tax through the running stack."""
