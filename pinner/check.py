"""``pinner check``'s rule, offline: every image that Gatekeeper would refuse as not pinned.

Pure logic over scans; nothing here prints. An image is fine when it is exempt or pinned by
digest (``pinner.policy``, Gatekeeper's own regex); an image that is not a reference at all is an
error naming its file:line, and so is a file that could not be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pinner.errors import Diagnostic
from pinner.helm import digest_key_notices
from pinner.manifests.scan import FileScan
from pinner.manifests.sites import ImageSite, Skipped
from pinner.policy import is_exempt, is_pinned
from pinner.tally import Tally


@dataclass
class CheckResult:
    violations: list[ImageSite] = field(default_factory=list)  # images not pinned
    errors: list[Diagnostic] = field(default_factory=list)  # each placed where it is
    notices: list[Diagnostic] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # templates, templated images
    tally: Tally = field(default_factory=Tally)


def check_scans(scans: Iterable[FileScan], exempt: Sequence[str]) -> CheckResult:
    """Judge every image of ``scans``, taking one scan at a time and keeping only what is
    reported, so memory follows the largest file."""
    result = CheckResult()
    tally = result.tally
    for scan in scans:
        tally.files += 1
        result.skipped += scan.skipped
        tally.skipped += len(scan.skipped)
        if scan.error is not None:
            result.errors.append(Diagnostic.of(scan.error))
            tally.unreadable += 1
        for site, _, invalid in scan.images:
            tally.references += 1
            if invalid is not None:
                # Not a reference at all: an error naming file:line (exit 2), counted once.
                result.errors.append(Diagnostic.of(invalid))
                tally.failed += 1
            elif is_exempt(site.image, exempt):
                tally.exempt += 1
            elif is_pinned(site.image):
                tally.already_pinned += 1
            else:
                result.violations.append(site)
    # A values block with no digest key is a tag in the cluster: not pinned, and how to fix it.
    result.notices += digest_key_notices(result.violations)
    return result
