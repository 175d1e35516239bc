"""Shared test settings: Hypothesis profiles sized for CI (2 cores, a few minutes in all).

``ci`` (the default) keeps example counts small; ``HYPOTHESIS_PROFILE=thorough`` runs
many more examples when a property is being investigated.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    # The same examples every run, so CI's verdict does not depend on luck; the
    # `thorough` profile explores new ones.
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "thorough", parent=settings.get_profile("ci"), max_examples=300, derandomize=False
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
