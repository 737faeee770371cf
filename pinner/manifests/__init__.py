"""Manifests: files in, image sites out, new text back. The collect and substitute phases.

``walk`` chooses the files, ``files`` reads them as exact text, ``yamlnodes`` and ``skim``
parse only to find positions. ``finder`` locates every image with its span: ``objects`` walks
each Kubernetes object (where images live is data: ``pinner.kinds``), ``mappings`` reads its
keys as kubectl does, ``spans`` places each scalar exactly, and ``sites`` holds the records it
reports. ``scan`` ties those together per file (one ``FoundImage`` per image), ``workers`` is a
generic ordered parallel map that ``scan`` uses for a large tree, ``site_edits`` turns a site
and its digest into an edit, and ``rewrite`` splices new text in and writes files atomically.

May import ``pinner.errors``, ``pinner.reference``, ``pinner.kinds``, ``pinner.settings`` and
``pinner.sizes``; never ``pinner.registry``, ``pinner.config`` or the commands
(tests/unit/test_layers.py holds the rule).
"""
