"""Registries: tags in, digests out, over the OCI distribution API.

Layered bottom-up: ``errors``; ``hosts``, ``urls`` and ``connect`` (which hosts and URLs may
be asked, checked again at connect time); ``exchange`` (one request: its redirects and caps),
``retries``, ``failures`` (what went wrong, named) and ``transport`` (connections, and each
request through all of those); ``challenge`` and ``credentials``/``keychains`` (auth, no HTTP);
``session`` (challenges over a transport); ``mediatypes`` and ``platforms`` (what a body is);
``client`` (one registry, configured by the run's ``pinner.settings.Settings``) and
``taglists`` (its tag lists, page by page); ``pool`` (the one bounded lookup pool) and
``resolver`` (many references at once).

May import ``pinner.errors``, ``pinner.jsonload``, ``pinner.reference`` and ``pinner.settings``;
never ``pinner.manifests``, ``pinner.config`` or the commands (tests/unit/test_layers.py holds
the rule). This file imports nothing on purpose: ``pinner check`` must never load httpx.
"""
