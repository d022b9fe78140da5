"""The patient's personalised care programme (PPS): drafted from a validated decision, signed
in write-once versions, delivered as a CDA R2 CANCER-PPS and a PDF written for the patient."""
