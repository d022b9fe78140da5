"""Patient identity (RNIV / INS rules), search and timeline."""
