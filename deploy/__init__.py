"""Scale-out deployment on loopback (see cluster.py)."""
