"""Readers and writers of CAP, EDXL-DE, EDXL-HAVE and EDXL-SitRep."""
