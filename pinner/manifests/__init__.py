"""Manifests: files in, image sites out, new text back.

The collect and substitute phases. ``walk`` chooses the files, ``files`` reads them as exact text,
``yamlnodes``/``skim``/``finder`` locate every image with its span, ``scan`` ties those together
per file (``workers`` runs it in parallel), and ``rewrite`` splices new text in and writes files
atomically. May import ``pinner.errors``, ``pinner.reference``, ``pinner.kinds`` and
``pinner.sizes``; never ``pinner.registry``, ``pinner.config`` or the commands.
"""
