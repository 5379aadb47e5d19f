"""The demo's spread, unit by unit (issue 9): départements and partners differ, national figures stay put.

Fast: profiles are drawn on the synthetic registry without building a warehouse (the built demo is
checked in ``test_demo.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from fsdash.demo import calibration as cal
from fsdash.demo import feed
from fsdash.demo.network import generate_sites
from fsdash.demo.territory import draw_territories, urbanity


@pytest.fixture(scope="module")
def profile() -> feed.SiteProfile:
    rng = np.random.default_rng(2019)
    return feed.draw_profiles(rng, generate_sites(rng))


def test_centre_lands_on_the_target_whatever_the_spread():
    rng = np.random.default_rng(1)
    logits = rng.normal(2.0, 1.5, 500)
    weights = rng.uniform(0.1, 3.0, 500)
    centred = feed._centre(logits, weights, 0.82)
    share = (weights / (1 + np.exp(-centred))).sum() / weights.sum()
    assert share == pytest.approx(0.82, abs=1e-6)
    assert np.allclose(np.diff(centred - logits), 0.0)  # one common shift: the spread is kept


def test_territories_are_drawn_from_the_seed():
    a, b = draw_territories(np.random.default_rng(5)), draw_territories(np.random.default_rng(5))
    other = draw_territories(np.random.default_rng(6))
    assert np.array_equal(a.activity, b.activity) and np.array_equal(a.lateness, b.lateness)
    assert not np.allclose(a.activity, other.activity)
    assert len(a.codes) == 101 and a.overseas.sum() == 5


def test_urbanity_tells_paris_from_the_creuse():
    paris, creuse, nord = urbanity(["75", "23", "59"])
    assert paris == pytest.approx(1.0)
    assert creuse < 0.05
    assert 0.2 < nord < 0.8


def test_partner_mix_keeps_the_national_partner_shares(profile):
    partner_of = np.array([feed.PARTNERS.index(p) for p, _, _ in feed.pairs()])
    national = np.bincount(partner_of, weights=profile.size @ profile.partner_p) / profile.size.sum()
    target = np.array([cal.PARTNER_SHARES[p] for p in feed.PARTNERS])
    assert np.abs(national - target / target.sum()).max() < 0.002


def test_outcomes_differ_by_partner_and_stay_at_82_percent_nationally(profile):
    partner_of = np.array([feed.PARTNERS.index(p) for p, _, _ in feed.pairs()])
    volume = np.stack([profile.partner_p[:, partner_of == i].sum(axis=1) for i in range(len(feed.PARTNERS))], 1)
    weights = profile.size[:, None] * volume
    on_spot = profile.outcome_p[:, :, 0]
    national = (weights * on_spot).sum() / weights.sum()
    by_partner = dict(zip(feed.PARTNERS, (weights * on_spot).sum(0) / weights.sum(0), strict=True))
    assert national == pytest.approx(0.82, abs=0.001)
    assert by_partner["ANTS"] - by_partner["CNAV"] > 0.2
    assert max(by_partner.values()) - min(by_partner.values()) > 0.3
    assert np.allclose(profile.outcome_p.sum(axis=2), 1.0) and (profile.outcome_p > 0).all()


def test_channels_differ_by_partner(profile):
    visio = {p: profile.channel_p[:, i, 2].mean() for i, p in enumerate(feed.PARTNERS)}
    assert visio["CNAV"] > 5 * visio["ANTS"] and visio["JUSTICE"] > visio["CNAV"]
    assert np.allclose(profile.channel_p.sum(axis=2), 1.0)


def test_kiosk_satisfaction_spreads_around_95_percent(profile):
    weights = np.clip(profile.size, 0.3, 3) * profile.kiosk
    assert (weights * profile.satisfaction).sum() / weights.sum() == pytest.approx(0.95, abs=0.001)
    assert profile.satisfaction[profile.kiosk].std() > profile.satisfaction_base[profile.kiosk].std()


def test_report_shares_follow_the_departement(profile):
    shares = profile.report_shares(profile.sites["site_id"], cal.SHARE_LATE_REPORTS)
    assert np.percentile(shares, 90) > 3 * np.percentile(shares, 10)
    assert shares.mean() == pytest.approx(cal.SHARE_LATE_REPORTS, rel=0.25)
