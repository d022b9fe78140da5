"""Meeting sessions of an RCP (agenda, attendance and meeting mode come with later issues)."""
