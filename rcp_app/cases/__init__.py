"""Case registration: the structured clinical data set of a case presented to an RCP."""
