"""Where simulated customers live, travel to, and where fraudsters act from.

Shared by every customer, like ``merchants`` and ``banks``: the bank is German (``banks``), so
customers live in German cities; holidays go abroad; fraud comes from far away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Place:
    """A city with its country (ISO 3166-1 alpha-2) and WGS84 coordinates."""

    country: str
    city: str
    latitude: float
    longitude: float


HOME_COUNTRY: Final = "DE"
"""The simulated bank's country: where its customers live, bank and pay (``banks``)."""

HOME_CITIES: Final = (
    (Place("DE", "Berlin", 52.52, 13.405), 18),
    (Place("DE", "Hamburg", 53.5511, 9.9937), 9),
    (Place("DE", "München", 48.1351, 11.582), 7),
    (Place("DE", "Köln", 50.9375, 6.9603), 5),
    (Place("DE", "Frankfurt am Main", 50.1109, 8.6821), 4),
    (Place("DE", "Stuttgart", 48.7758, 9.1829), 3),
    (Place("DE", "Düsseldorf", 51.2277, 6.7735), 3),
    (Place("DE", "Leipzig", 51.3397, 12.3731), 3),
    (Place("DE", "Dortmund", 51.5136, 7.4653), 3),
    (Place("DE", "Bremen", 53.0793, 8.8017), 2),
    (Place("DE", "Dresden", 51.0504, 13.7373), 2),
    (Place("DE", "Hannover", 52.3759, 9.732), 2),
    (Place("DE", "Nürnberg", 49.4521, 11.0767), 2),
    (Place("DE", "Freiburg im Breisgau", 47.999, 7.8421), 1),
    (Place("DE", "Rostock", 54.0924, 12.0991), 1),
)
"""Cities customers live in, with weights (roughly by population)."""

DESTINATIONS: Final = (
    (Place("ES", "Palma", 39.5696, 2.6502), 6),
    (Place("IT", "Rom", 41.9028, 12.4964), 4),
    (Place("AT", "Wien", 48.2082, 16.3738), 4),
    (Place("FR", "Paris", 48.8566, 2.3522), 3),
    (Place("HR", "Split", 43.5081, 16.4402), 3),
    (Place("GR", "Heraklion", 35.3387, 25.1442), 3),
    (Place("PT", "Lissabon", 38.7223, -9.1393), 2),
    (Place("NL", "Amsterdam", 52.3676, 4.9041), 2),
    (Place("DK", "Kopenhagen", 55.6761, 12.5683), 1),
    (Place("TR", "Antalya", 36.8969, 30.7133), 3),
    (Place("US", "New York", 40.7128, -74.006), 1),
    (Place("TH", "Bangkok", 13.7563, 100.5018), 1),
)
"""Holiday and short-trip destinations abroad, with weights."""

FRAUD_PLACES: Final = (
    Place("NG", "Lagos", 6.5244, 3.3792),
    Place("RO", "Bukarest", 44.4268, 26.1025),
    Place("BR", "São Paulo", -23.5505, -46.6333),
    Place("US", "Miami", 25.7617, -80.1918),
    Place("GB", "London", 51.5072, -0.1276),
    Place("UA", "Odessa", 46.4825, 30.7233),
    Place("TH", "Pattaya", 12.9236, 100.8825),
    Place("AE", "Dubai", 25.2048, 55.2708),
    Place("ID", "Jakarta", -6.2088, 106.8456),
)
"""Where card fraudsters cash out and account takers log in from (far from every home city)."""

ONLINE_MERCHANT_COUNTRIES: Final = (("DE", 80), ("LU", 8), ("IE", 5), ("NL", 5), ("US", 2))
"""Where the web shops a customer pays online are registered (marketplaces in LU, IE, NL)."""
SUBSCRIPTION_COUNTRIES: Final = {"4899": "NL", "4814": "DE", "5968": "IE", "7997": "DE"}
"""Country of each subscription's merchant (``merchants.SUBSCRIPTION_MCCS``)."""


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine): how far apart two places are, for travel times."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def travel_seconds(a: Place, b: Place) -> int:
    """Door to door: three hours of airports and 800 km/h in the air, or 90 km/h by road when close."""
    km = distance_km(a, b)
    if km < 600:
        return int(km / 90 * 3600) + 1800
    return int((3 + km / 800) * 3600)
