"""Periodic analyses: moving-average crosses, the daily trend scan, the volume anomaly baseline."""
