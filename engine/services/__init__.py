"""Use cases: one function per API verb, one transaction each. No SQL here."""
