"""The market registry and the one-market overview that joins live state with the marts and analyses."""
