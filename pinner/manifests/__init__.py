"""Manifests: files in, image sites out, new text back. The collect and substitute phases.

``walk`` chooses the files, ``files`` reads them as exact text, ``yamlnodes``, ``skim`` and
``finder`` locate every image with its span (where images live is data: ``pinner.kinds``),
``scan`` ties those together per file (one ``FoundImage`` per image), ``workers`` is a generic
ordered parallel map that ``scan`` uses for a large tree, and ``rewrite`` splices new text in
and writes files atomically.

May import ``pinner.errors``, ``pinner.reference``, ``pinner.kinds``, ``pinner.settings`` and
``pinner.sizes``; never ``pinner.registry``, ``pinner.config`` or the commands
(tests/unit/test_layers.py holds the rule).
"""
