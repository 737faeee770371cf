"""Configuration: ``.pinner.yaml`` (``file``, ``values``) and the command-line flags merged into
one ``Settings`` per run (``settings``). May import ``pinner.errors``, ``pinner.sizes`` and
``pinner.manifests`` (for the YAML composer and rule types); never ``pinner.registry``.
"""
