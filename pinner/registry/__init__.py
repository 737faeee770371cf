"""Registries: tags in, digests out, over the OCI distribution API.

Layered bottom-up: ``errors``, ``hosts``, ``transport`` (HTTP, caps, retries), ``challenge`` and
``credentials``/``keychains`` (auth, no HTTP), ``session`` (challenges over a transport),
``mediatypes`` and ``platforms`` (what a body is), ``client`` (one registry), ``resolver`` (many
references at once). May import ``pinner.errors`` and ``pinner.reference``; never
``pinner.manifests``, ``pinner.config`` or the commands.

This file imports nothing on purpose: ``pinner check`` must never load httpx.
"""
