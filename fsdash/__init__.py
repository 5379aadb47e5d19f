"""fsdash: steering dashboard of the France Services network."""
