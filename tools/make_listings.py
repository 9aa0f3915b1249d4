"""Generate the synthetic 'listings' data set shipped with rmodels (fixed seed).

A made-up table of short-term rental listings: price per night, star rating, borough,
neighbourhood (nested in borough), room type, number of reviews and whether the listing was
booked on a given night. Used by the demo and the README tour; it is not real data.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261125)
boroughs = {"Bronx": 6, "Brooklyn": 10, "Manhattan": 12, "Queens": 8, "Staten Island": 4}
bor_eff = {"Bronx": -25.0, "Brooklyn": 10.0, "Manhattan": 55.0, "Queens": -5.0,
           "Staten Island": -30.0}
hoods = [(b, f"{b[:3].upper()}-{i + 1:02d}") for b, k in boroughs.items() for i in range(k)]
hood_int = rng.normal(0, 18, len(hoods))
hood_slope = rng.normal(0, 6, len(hoods))
n = 2400
h = rng.integers(0, len(hoods), n)
borough = np.array([hoods[i][0] for i in h])
hood = np.array([hoods[i][1] for i in h])
room = rng.choice(["Entire home/apt", "Private room", "Shared room"], n, p=[0.55, 0.38, 0.07])
room_eff = {"Entire home/apt": 0.0, "Private room": -45.0, "Shared room": -70.0}
stars = np.round(np.clip(rng.normal(4.2, 0.6, n), 1, 5), 1)
price = (95 + np.array([bor_eff[b] for b in borough]) + hood_int[h]
         + np.array([room_eff[r] for r in room]) + 12 * (stars - 4) + hood_slope[h] * (stars - 4)
         + rng.normal(0, 22, n))
price = np.round(np.maximum(price, 20), 0)
eta = -1.0 + 0.9 * (stars - 4) - 0.012 * (price - 100) + 0.4 * (room == "Private room")
booked = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
reviews = rng.poisson(np.exp(1.5 + 0.35 * (stars - 4) + 0.3 * (borough == "Manhattan")))
stars = stars.astype(object)
stars[rng.random(n) < 0.02] = None  # a few unrated listings (NA)
df = pd.DataFrame({"price": price, "stars": stars, "borough": borough, "neighborhood": hood,
                   "room_type": room, "reviews": reviews, "booked": booked})
out = Path(__file__).resolve().parents[1] / "python" / "rmodels" / "data" / "listings.csv"
df.to_csv(out, index=False)
print(f"wrote {out.name}: {len(df)} rows")
