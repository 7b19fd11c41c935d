"""Scale-out engines: thin adapters that run :mod:`facescan.batch` units on a cluster.

Each is an optional extra, imported only when asked for (``--engine ray``): ``facescan.engines.ray``.
"""
