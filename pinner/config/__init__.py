"""Configuration: ``.pinner.yaml`` read and checked (``file``, ``values``) into what it says
(``Given``), the flags' ``Given`` over it, merged into the one ``pinner.settings.Settings`` of a
run (``settings``). May import ``pinner.errors``, ``pinner.kinds``, ``pinner.settings``,
``pinner.sizes`` and ``pinner.manifests.yamlnodes`` (the YAML composer); never
``pinner.registry`` or the commands.
"""
