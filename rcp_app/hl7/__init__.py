"""Inbound HL7 v2 identity feed (IHE PAM, French extension): an MLLP listener that applies the
hospital's ADT^A28/A31 (create or update a patient) and ADT^A40 (merge two patients) through
the patient operations, and answers each message with an ACK (AA / AE / AR).

Layout: ``messages`` reads MSH/PID/MRG with python-hl7 into plain values, ``mapping`` turns a
PID into the identity data of ``patients.operations``, ``operations`` applies one message,
``ack`` writes the acknowledgement, ``listener`` is the MLLP server, ``cli`` the command.
"""
