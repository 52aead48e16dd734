"""Simulator backends (installed as ``npl_nengo.backends``).

One module per simulator; each is imported only when used (see
:mod:`npl_nengo.registry`, which lists them).
"""
